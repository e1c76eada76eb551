//! The translation catalogues: `web/i18n/en.toml` (complete: every text a page shows)
//! and `web/i18n/fr.toml` (French, complete too: a test holds it to every English key; a
//! missing text would fall back to English).
//!
//! A catalogue is TOML whose tables group keys by page (`[search]`, `[package]`...); a
//! key is the dotted path (`search.count`). Texts may hold `{name}` placeholders, filled
//! from the arguments of the templates' `t(key, name=...)`. A text that depends on a
//! number is a table with `one` and `other`, chosen by `t(key, count=n)`.

use std::collections::BTreeMap;

use crate::{Lang, WebError};

const EN: &str = include_str!("../i18n/en.toml");
const FR: &str = include_str!("../i18n/fr.toml");

/// Every language's texts, by dotted key.
#[derive(Debug, Clone)]
pub struct Catalogues {
    en: BTreeMap<String, String>,
    fr: BTreeMap<String, String>,
}

impl Catalogues {
    /// The catalogues embedded from `web/i18n/`.
    pub fn embedded() -> Result<Self, WebError> {
        Ok(Self {
            en: parse("en.toml", EN)?,
            fr: parse("fr.toml", FR)?,
        })
    }

    fn of(&self, lang: Lang) -> &BTreeMap<String, String> {
        match lang {
            Lang::En => &self.en,
            Lang::Fr => &self.fr,
        }
    }

    /// The text of `key` in `lang`, else in English.
    pub fn text(&self, lang: Lang, key: &str) -> Option<&str> {
        self.of(lang).get(key).or_else(|| self.en.get(key)).map(String::as_str)
    }

    /// The keys of a language's catalogue.
    pub fn keys(&self, lang: Lang) -> impl Iterator<Item = &str> {
        self.of(lang).keys().map(String::as_str)
    }

    /// How many English keys `lang` translates, of how many.
    pub fn coverage(&self, lang: Lang) -> (usize, usize) {
        let have = self.of(lang);
        (self.en.keys().filter(|k| have.contains_key(*k)).count(), self.en.len())
    }
}

/// The plural form of `n` in `lang`: `one` or `other` (French counts 0 and 1 as one).
pub fn plural(lang: Lang, n: i64) -> &'static str {
    let one = match lang {
        Lang::En => n == 1,
        Lang::Fr => n == 0 || n == 1,
    };
    if one { "one" } else { "other" }
}

fn parse(file: &'static str, text: &str) -> Result<BTreeMap<String, String>, WebError> {
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| WebError::Catalogue {
        file,
        message: e.to_string(),
    })?;
    let mut out = BTreeMap::new();
    flatten(file, "", &table, &mut out)?;
    Ok(out)
}

fn flatten(
    file: &'static str,
    prefix: &str,
    table: &toml::Table,
    out: &mut BTreeMap<String, String>,
) -> Result<(), WebError> {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            toml::Value::Table(t) => flatten(file, &key, t, out)?,
            _ => {
                return Err(WebError::Catalogue {
                    file,
                    message: format!("`{key}` must be a text or a table"),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::print_stdout)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// The keys of every `t("...")` / `t('...')` call in the template files.
    fn used_keys() -> BTreeSet<String> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
        let mut keys = BTreeSet::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let src = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            let bytes = src.as_bytes();
            for (i, _) in src.match_indices("t(") {
                if i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_' || bytes[i - 1] == b'.') {
                    continue;
                }
                let rest = &src[i + 2..];
                let Some(quote) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') else {
                    panic!(
                        "t( without a literal key in the templates: {}",
                        &rest[..rest.len().min(40)]
                    );
                };
                let end = rest[1..].find(quote).unwrap();
                keys.insert(rest[1..1 + end].to_owned());
            }
        }
        keys
    }

    fn is_plural_of(key: &str, used: &str) -> bool {
        key.strip_prefix(used)
            .is_some_and(|rest| rest == ".one" || rest == ".other")
    }

    #[test]
    fn every_key_used_in_templates_is_in_english() {
        let cats = Catalogues::embedded().unwrap();
        let en: BTreeSet<&str> = cats.keys(Lang::En).collect();
        let missing: Vec<String> = used_keys()
            .into_iter()
            .filter(|k| {
                let plural = en.contains(format!("{k}.one").as_str()) && en.contains(format!("{k}.other").as_str());
                !en.contains(k.as_str()) && !plural
            })
            .collect();
        assert!(
            missing.is_empty(),
            "keys used in templates but missing from en.toml: {missing:?}"
        );
    }

    #[test]
    fn english_has_no_unused_keys() {
        let cats = Catalogues::embedded().unwrap();
        let used = used_keys();
        let unused: Vec<&str> = cats
            .keys(Lang::En)
            .filter(|k| !used.contains(*k) && !used.iter().any(|u| is_plural_of(k, u)))
            .collect();
        assert!(unused.is_empty(), "keys in en.toml that no template uses: {unused:?}");
    }

    #[test]
    fn french_keys_exist_in_english_and_keep_the_placeholders() {
        let cats = Catalogues::embedded().unwrap();
        for key in cats.keys(Lang::Fr) {
            let en = cats
                .en
                .get(key)
                .unwrap_or_else(|| panic!("fr.toml has `{key}`, en.toml does not"));
            let fr = &cats.fr[key];
            let holes = |s: &str| -> BTreeSet<String> {
                s.split('{')
                    .skip(1)
                    .filter_map(|p| p.split_once('}').map(|(h, _)| h.to_owned()))
                    .collect()
            };
            assert_eq!(holes(en), holes(fr), "placeholders of `{key}` differ between en and fr");
        }
    }

    /// French pages are French throughout (WCAG 3.1.2): every English key has a French
    /// text, and a French text that equals the English one is a word both languages share.
    #[test]
    fn french_is_complete() {
        let cats = Catalogues::embedded().unwrap();
        let (have, total) = cats.coverage(Lang::Fr);
        println!("French: {have} of {total} keys translated");
        let missing: Vec<&str> = cats.keys(Lang::En).filter(|k| !cats.fr.contains_key(*k)).collect();
        assert!(missing.is_empty(), "French lacks {} keys: {missing:?}", missing.len());
        assert_eq!(have, total);
        // Words spelt the same in both languages; anything else identical is untranslated.
        let shared = [
            "README",
            "Version",
            "Version {version}",
            "Versions",
            "Description",
            "Source",
            "Organisations",
            "Licence",
            "Licences",
            "Signature",
            "Pages",
            "Active",
        ];
        let same: Vec<&str> = cats
            .keys(Lang::Fr)
            .filter(|k| cats.fr[*k] == cats.en[*k] && cats.fr[*k].chars().any(char::is_alphabetic))
            .filter(|k| !shared.contains(&cats.fr[*k].as_str()))
            .collect();
        assert!(same.is_empty(), "French texts identical to English: {same:?}");
    }

    #[test]
    fn plural_rules() {
        assert_eq!(plural(Lang::En, 0), "other");
        assert_eq!(plural(Lang::En, 1), "one");
        assert_eq!(plural(Lang::Fr, 0), "one");
        assert_eq!(plural(Lang::Fr, 2), "other");
    }
}
