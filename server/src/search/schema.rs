//! The search index's fields. Bump [`VERSION`] whenever they change: a server that finds
//! another version in `DATA/search/SCHEMA_VERSION` rebuilds the index from the database.

use tantivy::schema::{FAST, FacetOptions, Field, STORED, STRING, Schema, TEXT};

/// The version of this schema, written next to the index.
pub const VERSION: &str = "4";

/// Facet categories, each the first step of a path in the `facets` field
/// (`/spec/govstack/identity`, `/license/MPL-2.0`, `/signed/yes`, `/kind/listing`, ...).
///
/// - `compliance`: the best level a package claims for the interface or the requirement
///   specification of any spec it implements (`level-2`, `level-1`), or `none`. Listings
///   have no compliance facet.
/// - `signed`: `yes` for every package (publishing refuses unsigned ones), `no` for
///   listings, which are metadata only.
/// - `kind`: `package` (installable) or `listing` (imported metadata, not installable).
/// - `approved`: the countries in which the indexed version of a package holds its
///   threshold of approvals (as the registry counts them; refreshed on every approval
///   event and at rebuilds, so an expiry shows at the next refresh).
pub const CATEGORIES: [&str; 9] = [
    "spec",
    "license",
    "maturity",
    "country",
    "approved",
    "sdg",
    "compliance",
    "signed",
    "kind",
];

/// The fields of a document (a package or a listing).
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    /// The key that updates replace, untokenized: a package's full name, a listing's
    /// `listing:<id>`.
    pub id: Field,
    /// The order of equal scores: the lowercased name, then the key.
    pub sort: Field,
    /// Exact-name matches, lowercased and untokenized: a package's full and short name,
    /// its title (and the names of the DPG listings that describe it), a listing's name,
    /// aliases and source id; each also with letters and digits only ([`squash`]:
    /// `X-Road` -> `xroad`), so that `x road` and `rapid pro` find them too.
    pub exact: Field,
    /// The name, tokenized (`x-road/security-server` -> `x`, `road`, `security`, `server`),
    /// and a package's title (`Payment Hub EE`): the product's human name weighs as its
    /// name does.
    pub name: Field,
    /// Joined words of the name, title, aliases and keywords: each pair of neighbours and
    /// the whole (`X-Road Security Server` -> `xroad`, `roadsecurity`, `securityserver`,
    /// `xroadsecurityserver`), so that a query word written joined (`xroad`,
    /// `rapidpro`) finds words written apart.
    pub joined: Field,
    /// Implemented spec ids (`govstack/workflow` -> `govstack`, `workflow`): a query word
    /// naming a building block gives its implementers a fixed bonus.
    pub specs: Field,
    /// Keywords, sectors and implemented spec ids (listings: sectors and types).
    pub keywords: Field,
    pub description: Field,
    /// Licence words (`MPL-2.0` -> `mpl`, `2`, `0`).
    pub license: Field,
    /// Licence identifiers, lowercased and untokenized (`mpl-2.0`): a query that is one
    /// ranks the documents under that licence above mere word matches.
    pub license_id: Field,
    /// Deployment countries: codes and English names.
    pub countries: Field,
    /// Maturity and compliance level (listings: organisations and stage), as words.
    pub extra: Field,
    /// Name, keywords, specs and description as light English stems ([`stem`]), so that
    /// `mediation` finds `mediator` and `registries` finds `registry`.
    pub stem: Field,
    /// Facet paths, one category per first step.
    pub facets: Field,
    /// The multiplier of the text score: more downloads rank a package a little higher,
    /// listings a little lower than packages (see `query`).
    pub boost: Field,
    /// The hit as the API returns it (JSON), stored only.
    pub hit: Field,
}

/// The schema and its fields.
pub fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let fields = Fields {
        id: b.add_text_field("id", STRING | FAST),
        sort: b.add_text_field("sort", STRING | FAST),
        exact: b.add_text_field("exact", STRING),
        name: b.add_text_field("name", TEXT),
        joined: b.add_text_field("joined", TEXT),
        specs: b.add_text_field("specs", TEXT),
        keywords: b.add_text_field("keywords", TEXT),
        description: b.add_text_field("description", TEXT),
        license: b.add_text_field("license", TEXT),
        license_id: b.add_text_field("license_id", STRING),
        countries: b.add_text_field("countries", TEXT),
        extra: b.add_text_field("extra", TEXT),
        stem: b.add_text_field("stem", TEXT),
        facets: b.add_facet_field("facets", FacetOptions::default()),
        boost: b.add_f64_field("boost", FAST),
        hit: b.add_text_field("hit", STORED),
    };
    (b.build(), fields)
}

/// A light English stem of a lowercased word: the longest of a few common suffixes
/// (`-ation`, `-ator`, `-ity`, `-ment`, `-ing`, `-ion`, `-ies`, `-er`, `-or`, `-es`,
/// `-ed`, `-s`, `-e`, `-y`, ...) removed when at least four letters remain. Crude, but the
/// same on both sides: documents and queries go through it alike.
pub fn stem(word: &str) -> &str {
    const SUFFIXES: [&str; 24] = [
        "ational", "ations", "ation", "ators", "ator", "ities", "ity", "ments", "ment", "ings", "ing", "ions", "ion",
        "ies", "ers", "ors", "er", "or", "es", "ed", "ly", "s", "e", "y",
    ];
    if word.len() <= 4 || !word.is_ascii() {
        return word;
    }
    SUFFIXES
        .iter()
        .filter(|s| word.ends_with(*s) && word.len() - s.len() >= 4)
        .max_by_key(|s| s.len())
        .map_or(word, |s| &word[..word.len() - s.len()])
}

/// Letters and digits only, lowercased (`X-Road` -> `xroad`, `Rapid Pro` -> `rapidpro`):
/// how exact names are also compared.
pub fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The joined forms of a text's words (see [`Fields::joined`]): each pair of neighbours
/// and, for three words or more, all of them, lowercased. Nothing for a single word.
pub fn joined(text: &str) -> Vec<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let mut out: Vec<String> = words.windows(2).map(|p| format!("{}{}", p[0], p[1])).collect();
    if words.len() > 2 {
        out.push(words.concat());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{joined, squash, stem};

    #[test]
    fn joined_and_squashed_forms() {
        assert_eq!(
            joined("X-Road Security Server"),
            ["xroad", "roadsecurity", "securityserver", "xroadsecurityserver"]
        );
        assert_eq!(joined("Rapid Pro"), ["rapidpro"]);
        assert!(joined("RapidPro").is_empty());
        assert_eq!(squash("X-Road"), "xroad");
        assert_eq!(squash(" Rapid  Pro "), "rapidpro");
        assert_eq!(squash("Santé MPI"), "santémpi");
    }

    #[test]
    fn variants_share_a_stem() {
        for group in [
            &["mediation", "mediator", "mediators"][..],
            &["registry", "registries", "registration"],
            &["payment", "payments"],
            &["message", "messages", "messaging"],
            &["identity", "identities"],
            &["workflow", "workflows"],
        ] {
            let stems: Vec<&str> = group.iter().map(|w| stem(w)).collect();
            assert!(stems.windows(2).all(|w| w[0] == w[1]), "{group:?} -> {stems:?}");
        }
        assert_eq!(stem("sms"), "sms");
        assert_eq!(stem("kenya"), "kenya");
        assert_eq!(stem("côte"), "côte");
    }
}
