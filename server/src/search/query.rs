//! Turning a search request into a tantivy query, and running it.
//!
//! Each word of the query must match (any field), except a few English filler words
//! (`in`, `for`, `the`, ...) which only add to the score. A word scores its best field
//! in full and the others at [`TIE_BREAKER`] (a dis-max), with field boosts name >
//! keywords and spec ids > licence, countries, maturity > description > light stems
//! (`mediation` ~ `mediator`); fuzzy prefix terms (edit distance 1 for words of 4
//! characters or more) give typo tolerance and prefixes (`esignt`, `x-ro`) in the name,
//! keywords, countries and description. A word that is a word of a spec the package
//! implements adds [`SPEC_BONUS`] (building-block words put the implementers first). A
//! query equal to a document's exact name (a package's full or short name, a listing's
//! name, the name of a listing that describes the package) ranks it first; a query that
//! is a licence identifier (`MPL-2.0`) ranks the documents under it next. Facet filters
//! are required terms; facet counts (see [`super::facets`]) are over the filtered matches.
//!
//! The final score is the text score times the document's `boost`: more downloads lift a
//! package mildly ([`super::document::download_boost`]), deprecated packages and listings
//! are weighed below maintained packages ([`super::document::DEPRECATED_BOOST`],
//! [`super::document::LISTING_BOOST`]). Equal scores order by name.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;
use tantivy::collector::sort_key::{NaturalComparator, SortByString};
use tantivy::collector::{Count, SegmentSortKeyComputer, SortKeyComputer, TopDocs};
use tantivy::columnar::ColumnValues;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, DisjunctionMaxQuery, FuzzyTermQuery, Occur, Query, TermQuery,
};
use tantivy::schema::{Facet, Field, IndexRecordOption, Value as _};
use tantivy::{DocId, Index, Order, Score, Searcher, SegmentReader, TantivyDocument, Term};

use super::facets::{FacetCounter, FacetTables};
use super::schema::Fields;

/// A search: words (may be empty: everything), how many hits after skipping `offset`
/// (pagination), facet filters (category, value), e.g. `("spec", "govstack/identity")`,
/// and whether to count the matches' facet values.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub q: String,
    pub limit: usize,
    pub offset: usize,
    pub filters: Vec<(String, String)>,
    pub facets: bool,
}

/// What a search found: the number of matches, the best `limit` hits (as the API shows
/// them), and when asked for, for each facet category the counts of its values among the
/// matches (empty otherwise).
#[derive(Debug, Clone)]
pub struct Found {
    pub total: usize,
    pub hits: Vec<Value>,
    pub facets: BTreeMap<&'static str, BTreeMap<String, u64>>,
}

const NAME: f32 = 4.0;
const KEYWORDS: f32 = 2.5;
/// Added per query word that is a word of a spec the document implements: building-block
/// words (`workflow`, `identity`) put the implementers first.
const SPEC_BONUS: f32 = 3.0;
const LICENSE: f32 = 1.5;
const COUNTRIES: f32 = 1.5;
const EXTRA: f32 = 1.5;
const DESCRIPTION: f32 = 1.0;
/// Light stems: `mediation` finds `mediator`, below an exact word.
const STEM: f32 = 0.75;
/// Fuzzy (and prefix) matches score a constant, this share of the field's boost.
const FUZZY: f32 = 0.5;
const EXACT_NAME: f32 = 1000.0;
/// A query that is a licence identifier (`MPL-2.0`).
const EXACT_LICENSE: f32 = 100.0;
/// Words too common to require: they may match, but need not.
const FILLERS: [&str; 12] = [
    "a", "an", "and", "for", "in", "of", "on", "or", "the", "to", "with", "by",
];

fn boosted(q: Box<dyn Query>, boost: f32) -> (Occur, Box<dyn Query>) {
    (Occur::Should, Box::new(BoostQuery::new(q, boost)))
}

/// How much the fields other than a word's best one add to its score.
const TIE_BREAKER: f32 = 0.3;

/// One word: its best field match counts in full, the others at [`TIE_BREAKER`], so that
/// a word found exactly in one field is not outweighed by loose (fuzzy) matches
/// elsewhere.
fn word_query(f: &Fields, word: &str) -> Box<dyn Query> {
    let distance = if word.chars().count() >= 4 { 1 } else { 0 };
    let boost = |q: Box<dyn Query>, b: f32| -> Box<dyn Query> { Box::new(BoostQuery::new(q, b)) };
    let mut disjuncts = vec![boost(
        Box::new(TermQuery::new(
            Term::from_field_text(f.stem, super::schema::stem(word)),
            IndexRecordOption::WithFreqs,
        )),
        STEM,
    )];
    // (field, boost, typo-tolerant and prefix): licence and extra words match exactly.
    for (field, b, fuzzy) in [
        (f.name, NAME, true),
        (f.keywords, KEYWORDS, true),
        (f.license, LICENSE, false),
        (f.countries, COUNTRIES, true),
        (f.extra, EXTRA, false),
        (f.description, DESCRIPTION, true),
    ] {
        let term = Term::from_field_text(field, word);
        disjuncts.push(boost(
            Box::new(TermQuery::new(term.clone(), IndexRecordOption::WithFreqs)),
            b,
        ));
        if fuzzy {
            disjuncts.push(boost(
                Box::new(FuzzyTermQuery::new_prefix(term, distance, true)),
                b * FUZZY,
            ));
        }
    }
    Box::new(DisjunctionMaxQuery::with_tie_breaker(disjuncts, TIE_BREAKER))
}

fn words(index: &Index, field: Field, q: &str) -> tantivy::Result<Vec<String>> {
    let mut analyzer = index.tokenizer_for_field(field)?;
    let mut stream = analyzer.token_stream(q);
    let mut out = Vec::new();
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    Ok(out)
}

/// The query for `req`, with its filters.
pub fn build(index: &Index, f: &Fields, req: &Request) -> tantivy::Result<Box<dyn Query>> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let mut words = words(index, f.name, &req.q)?;
    words.truncate(16);
    // A query of filler words only requires them all.
    let only_fillers = words.iter().all(|w| FILLERS.contains(&w.as_ref()));
    if words.is_empty() {
        clauses.push((Occur::Must, Box::new(AllQuery)));
    }
    for w in &words {
        let occur = if only_fillers || !FILLERS.contains(&w.as_ref()) {
            Occur::Must
        } else {
            Occur::Should
        };
        clauses.push((occur, word_query(f, w)));
        clauses.push((
            Occur::Should,
            Box::new(ConstScoreQuery::new(
                Box::new(TermQuery::new(
                    Term::from_field_text(f.specs, w),
                    IndexRecordOption::Basic,
                )),
                SPEC_BONUS,
            )),
        ));
    }
    let exact = req.q.trim().to_lowercase();
    if !exact.is_empty() {
        clauses.push(boosted(
            Box::new(TermQuery::new(
                Term::from_field_text(f.exact, &exact),
                IndexRecordOption::Basic,
            )),
            EXACT_NAME,
        ));
        clauses.push(boosted(
            Box::new(TermQuery::new(
                Term::from_field_text(f.license_id, &exact),
                IndexRecordOption::Basic,
            )),
            EXACT_LICENSE,
        ));
    }
    for (category, value) in &req.filters {
        let term = Term::from_facet(f.facets, &Facet::from_path([category.as_str(), value.as_str()]));
        clauses.push((Occur::Must, Box::new(TermQuery::new(term, IndexRecordOption::Basic))));
    }
    Ok(Box::new(BooleanQuery::new(clauses)))
}

/// The text score times the document's `boost` fast field.
struct Boosted;

struct BoostedSegment(Arc<dyn ColumnValues<f64>>);

impl SortKeyComputer for Boosted {
    type SortKey = Score;
    type Child = BoostedSegment;
    type Comparator = NaturalComparator;

    fn requires_scoring(&self) -> bool {
        true
    }

    fn segment_sort_key_computer(&self, segment: &SegmentReader) -> tantivy::Result<BoostedSegment> {
        Ok(BoostedSegment(
            segment.fast_fields().f64("boost")?.first_or_default_col(1.0),
        ))
    }
}

impl SegmentSortKeyComputer for BoostedSegment {
    type SortKey = Score;
    type SegmentSortKey = Score;
    type SegmentComparator = NaturalComparator;

    fn segment_sort_key(&mut self, doc: DocId, score: Score) -> Score {
        score * self.0.get_val(doc) as Score
    }

    fn convert_segment_sort_key(&self, key: Score) -> Score {
        key
    }
}

/// Run `req`: hits, total and (when asked for) facet counts in one pass.
pub fn run(
    searcher: &Searcher,
    index: &Index,
    f: &Fields,
    tables: &FacetTables,
    req: &Request,
) -> tantivy::Result<Found> {
    let query = build(index, f, req)?;
    // Equal scores (fuzzy and prefix matches score a constant) in name order, so that the
    // answer does not depend on the order the documents were written in.
    let top = TopDocs::with_limit(req.limit.max(1))
        .and_offset(req.offset)
        .order_by(((Boosted, Order::Desc), (SortByString::for_field("sort"), Order::Asc)));
    let (top, total, facets) = if req.facets {
        searcher.search(&query, &(top, Count, FacetCounter(tables)))?
    } else {
        let (top, total) = searcher.search(&query, &(top, Count))?;
        (top, total, BTreeMap::new())
    };
    let mut hits = Vec::with_capacity(top.len());
    for (_score, addr) in top {
        let doc: TantivyDocument = searcher.doc(addr)?;
        let stored = doc.get_first(f.hit).and_then(|v| v.as_str()).unwrap_or("{}");
        hits.push(serde_json::from_str(stored).unwrap_or(Value::Null));
    }
    Ok(Found { total, hits, facets })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use tantivy::Index;

    use super::*;
    use crate::db::listings::{Details, License};
    use crate::search::document::{Listing, document, listing_document};
    use crate::search::schema;

    fn listing(name: &str, license: &str, description: &str) -> Details {
        Details {
            id: 1,
            source: "dpg".into(),
            source_id: name.to_lowercase(),
            collection: "nominees".into(),
            name: name.into(),
            aliases: vec![],
            description: description.into(),
            website: None,
            licenses: vec![License {
                spdx: license.into(),
                url: None,
            }],
            sdgs: vec![],
            sectors: vec![],
            types: vec![],
            countries: vec![],
            unmapped_countries: vec![],
            repositories: vec![],
            organisations: vec![],
            stage: None,
            imported_at: 0,
            updated_at: 0,
        }
    }

    fn names(index: &Index, f: &Fields, q: &str) -> Vec<String> {
        let reader = index.reader().unwrap();
        let req = Request {
            q: q.into(),
            limit: 10,
            ..Default::default()
        };
        run(&reader.searcher(), index, f, &FacetTables::default(), &req)
            .unwrap()
            .hits
            .iter()
            .map(|h| h["name"].as_str().unwrap().to_owned())
            .collect()
    }

    /// A word found exactly in one field is not outweighed by typo-tolerant matches in
    /// others: `agpl` is the package's licence; the listing has it too, and a description
    /// word one typo away (`application`).
    #[test]
    fn exact_matches_beat_loose_ones() {
        let (schema, f) = schema::build();
        let index = Index::create_in_ram(schema);
        let mut w = index.writer_with_num_threads(1, 15_000_000).unwrap();
        let package = Listing {
            name: "rapidpro/rapidpro".into(),
            license: "AGPL-3.0-only".into(),
            description: "Messaging".into(),
            ..Default::default()
        };
        w.add_document(document(&package, &f)).unwrap();
        let l = listing("Bloinx", "AGPL-3.0", "A web application for applied savings");
        w.add_document(listing_document(&l, &[], &f)).unwrap();
        // Others under another licence, as in a real catalogue (AGPL is not in every entry).
        for i in 0..20 {
            let mut other = listing(&format!("Other {i}"), "Apache-2.0", "Maps");
            other.id = 2 + i;
            w.add_document(listing_document(&other, &[], &f)).unwrap();
        }
        w.commit().unwrap();
        assert_eq!(names(&index, &f, "AGPL"), ["rapidpro/rapidpro", "Bloinx"]);
        // A query of filler words only still requires them.
        assert!(names(&index, &f, "for the").is_empty());
        // Filler words are optional beside others.
        assert_eq!(names(&index, &f, "savings for the"), ["Bloinx"]);
    }
}
