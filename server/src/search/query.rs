//! Turning a search request into a tantivy query, and running it.
//!
//! Each word of the query must match (any field); within a word, exact terms score by BM25
//! with field boosts name > keywords > specs/licence > description, and fuzzy prefix terms
//! (edit distance 1 for words of 4 characters or more) give typo tolerance and prefixes
//! (`esignt`, `x-ro`). A query equal to a package's full or short name ranks that package
//! first. Facet filters are required terms; facet counts are over the filtered matches.

use std::collections::BTreeMap;

use serde_json::Value;
use tantivy::Order;
use tantivy::collector::sort_key::{SortBySimilarityScore, SortByString};
use tantivy::collector::{Count, FacetCollector, TopDocs};
use tantivy::query::{AllQuery, BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, Query, TermQuery};
use tantivy::schema::{Facet, Field, IndexRecordOption, Value as _};
use tantivy::{Index, Searcher, TantivyDocument, Term};

use super::schema::{CATEGORIES, Fields};

/// A search: words (may be empty: everything), how many hits, and facet filters
/// (category, value), e.g. `("spec", "govstack/identity")`.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub q: String,
    pub limit: usize,
    pub filters: Vec<(String, String)>,
}

/// What a search found: the number of matches, the best `limit` hits (as the API shows
/// them), and for each facet category the counts of its values among the matches.
#[derive(Debug, Clone)]
pub struct Found {
    pub total: usize,
    pub hits: Vec<Value>,
    pub facets: BTreeMap<&'static str, BTreeMap<String, u64>>,
}

const NAME: f32 = 4.0;
const KEYWORDS: f32 = 2.5;
const EXTRA: f32 = 1.5;
const DESCRIPTION: f32 = 1.0;
/// Fuzzy (and prefix) matches score a constant, this share of the field's boost.
const FUZZY: f32 = 0.5;
const EXACT_NAME: f32 = 1000.0;

fn boosted(q: Box<dyn Query>, boost: f32) -> (Occur, Box<dyn Query>) {
    (Occur::Should, Box::new(BoostQuery::new(q, boost)))
}

fn word_query(f: &Fields, word: &str) -> Box<dyn Query> {
    let distance = if word.chars().count() >= 4 { 1 } else { 0 };
    let mut clauses = Vec::new();
    for (field, boost) in [
        (f.name, NAME),
        (f.keywords, KEYWORDS),
        (f.extra, EXTRA),
        (f.description, DESCRIPTION),
    ] {
        let term = Term::from_field_text(field, word);
        clauses.push(boosted(
            Box::new(TermQuery::new(term.clone(), IndexRecordOption::WithFreqs)),
            boost,
        ));
        clauses.push(boosted(
            Box::new(FuzzyTermQuery::new_prefix(term, distance, true)),
            boost * FUZZY,
        ));
    }
    Box::new(BooleanQuery::new(clauses))
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
    let words = words(index, f.name, &req.q)?;
    if words.is_empty() {
        clauses.push((Occur::Must, Box::new(AllQuery)));
    }
    for w in words.iter().take(16) {
        clauses.push((Occur::Must, word_query(f, w)));
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
    }
    for (category, value) in &req.filters {
        let term = Term::from_facet(f.facets, &Facet::from_path([category.as_str(), value.as_str()]));
        clauses.push((Occur::Must, Box::new(TermQuery::new(term, IndexRecordOption::Basic))));
    }
    Ok(Box::new(BooleanQuery::new(clauses)))
}

/// Run `req`: hits, total and facet counts in one pass.
pub fn run(searcher: &Searcher, index: &Index, f: &Fields, req: &Request) -> tantivy::Result<Found> {
    let query = build(index, f, req)?;
    let mut facets = FacetCollector::for_field("facets");
    for c in CATEGORIES {
        facets.add_facet(Facet::from_path([c]));
    }
    // Equal scores (fuzzy and prefix matches score a constant) in name order, so that the
    // answer does not depend on the order the documents were written in.
    let top = TopDocs::with_limit(req.limit.max(1)).order_by((
        (SortBySimilarityScore, Order::Desc),
        (SortByString::for_field("id"), Order::Asc),
    ));
    let (top, total, counts) = searcher.search(&query, &(top, Count, facets))?;
    let mut hits = Vec::with_capacity(top.len());
    for (_score, addr) in top {
        let doc: TantivyDocument = searcher.doc(addr)?;
        let stored = doc.get_first(f.hit).and_then(|v| v.as_str()).unwrap_or("{}");
        hits.push(serde_json::from_str(stored).unwrap_or(Value::Null));
    }
    let mut by_category = BTreeMap::new();
    for c in CATEGORIES {
        let values: BTreeMap<String, u64> = counts
            .get(Facet::from_path([c]))
            .filter_map(|(facet, n)| facet.to_path().get(1).map(|v| ((*v).to_owned(), n)))
            .collect();
        by_category.insert(c, values);
    }
    Ok(Found {
        total,
        hits,
        facets: by_category,
    })
}
