//! API tokens: `gvs_<8 id chars>_<40 secret chars>` (base62). The first part,
//! `gvs_<id>`, is the visible prefix used to find the token; the database stores only
//! the SHA-256 of the whole token, so a database leak does not leak usable tokens.

use sha2::{Digest as _, Sha256};

pub const TOKEN_START: &str = "gvs_";
const ID_LEN: usize = 8;
const SECRET_LEN: usize = 40;
const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A freshly made token: shown once, then only `prefix` and `hash` are kept.
#[derive(Debug)]
pub struct NewToken {
    pub token: String,
    pub prefix: String,
    pub hash: String,
}

fn random_base62(n: usize) -> Result<String, getrandom::Error> {
    // Rejection sampling keeps every character equally likely.
    let mut out = String::with_capacity(n);
    let mut buf = [0u8; 64];
    while out.len() < n {
        getrandom::fill(&mut buf)?;
        for &b in &buf {
            if b < 248 && out.len() < n {
                out.push(ALPHABET[(b % 62) as usize] as char);
            }
        }
    }
    Ok(out)
}

pub fn generate() -> Result<NewToken, getrandom::Error> {
    let prefix = format!("{TOKEN_START}{}", random_base62(ID_LEN)?);
    let token = format!("{prefix}_{}", random_base62(SECRET_LEN)?);
    let hash = hash(&token);
    Ok(NewToken { token, prefix, hash })
}

pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The visible prefix of a well-formed token, or `None`.
pub fn prefix_of(token: &str) -> Option<&str> {
    let rest = token.strip_prefix(TOKEN_START)?;
    let (id, secret) = rest.split_once('_')?;
    let ok = id.len() == ID_LEN
        && secret.len() == SECRET_LEN
        && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    ok.then(|| &token[..TOKEN_START.len() + ID_LEN])
}

/// Compare without leaking where two equal-length strings differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_have_a_findable_prefix_and_a_stable_hash() {
        let t = generate().expect("randomness");
        assert_eq!(t.token.len(), 4 + 8 + 1 + 40);
        assert_eq!(prefix_of(&t.token), Some(t.prefix.as_str()));
        assert_eq!(hash(&t.token), t.hash);
        assert!(constant_time_eq(&hash(&t.token), &t.hash));
        assert_ne!(generate().expect("randomness").token, t.token);
        for bad in [
            "",
            "gvs_",
            "gvs_abc_def",
            "xyz_12345678_0123456789012345678901234567890123456789",
        ] {
            assert_eq!(prefix_of(bad), None, "{bad}");
        }
    }
}
