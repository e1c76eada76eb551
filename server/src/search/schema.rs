//! The search index's fields. Bump [`VERSION`] whenever they change: a server that finds
//! another version in `DATA/search/SCHEMA_VERSION` rebuilds the index from the database.

use tantivy::schema::{FAST, FacetOptions, Field, STORED, STRING, Schema, TEXT};

/// The version of this schema, written next to the index.
pub const VERSION: &str = "1";

/// Facet categories, each the first step of a path in the `facets` field
/// (`/spec/govstack/identity`, `/license/MPL-2.0`, `/signed/yes`, ...).
pub const CATEGORIES: [&str; 6] = ["spec", "license", "maturity", "country", "sdg", "signed"];

/// The fields of a package document.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    /// The full name, untokenized: the key that updates replace, and the order of equal scores.
    pub id: Field,
    /// The lowercased full name and short name, untokenized: exact-name matches.
    pub exact: Field,
    /// The name, tokenized (`x-road/security-server` -> `x`, `road`, `security`, `server`).
    pub name: Field,
    /// Keywords and sectors.
    pub keywords: Field,
    pub description: Field,
    /// Implemented spec ids, licence, maturity and deployment countries, as words.
    pub extra: Field,
    /// Facet paths, one category per first step.
    pub facets: Field,
    /// The hit as the API returns it (JSON), stored only.
    pub hit: Field,
}

/// The schema and its fields.
pub fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let fields = Fields {
        id: b.add_text_field("id", STRING | FAST),
        exact: b.add_text_field("exact", STRING),
        name: b.add_text_field("name", TEXT),
        keywords: b.add_text_field("keywords", TEXT),
        description: b.add_text_field("description", TEXT),
        extra: b.add_text_field("extra", TEXT),
        facets: b.add_facet_field("facets", FacetOptions::default()),
        hit: b.add_text_field("hit", STORED),
    };
    (b.build(), fields)
}
