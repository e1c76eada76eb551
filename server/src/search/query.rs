//! Turning a search request into tantivy queries, and running them.
//!
//! **Full matches first, then the best partial ones.** Each word of the query must match
//! (any field), except a few English filler words (`in`, `for`, `the`, ...) and words
//! that describe nearly every entry of a catalogue of open-source government software
//! (`system`, `software`, `platform`, `open`, `source`, ...), which only add to the score.
//! The documents that match every required word come first (a query of such optional
//! words only requires them all, and has no partial matches). After them, when the query
//! has two required words or more, come the documents that match at least half of them
//! (or, if fewer than [`FEW`] do, at least one): each matched word adds [`COVER`] to their score,
//! so that matching more words ranks higher. Partial hits carry `"partial": true`.
//! Totals and facet counts (see [`super::facets`]) are over both, after the filters.
//!
//! **One word** scores its best field in full and the others at [`TIE_BREAKER`] (a
//! dis-max), with field boosts name (and title) > keywords and spec ids > licence,
//! countries, maturity > description > light stems (`mediation` ~ `mediator`); fuzzy
//! prefix terms (edit distance 1 for words of 4 characters or more) give typo tolerance
//! and prefixes (`esignt`, `x-ro`) in the name (and title), keywords, countries and
//! description. Words written apart or joined find each other: a word also matches the
//! joined forms of names, titles and keywords (`xroad` finds `X-Road`), and two
//! neighbouring query words match their concatenation (`rapid pro` finds `RapidPro`).
//! A word that is a word of a spec the package implements adds [`SPEC_BONUS`]
//! (building-block words put the implementers first).
//!
//! **Exact names.** A query equal to a document's exact name (a package's full or short
//! name or title, a listing's name, the name of a listing that describes the package;
//! also compared with letters and digits only, so `rapid pro` is `RapidPro`) ranks it
//! first; a query that is a licence identifier (`MPL-2.0`) ranks the documents under it
//! next. Facet filters are required terms.
//!
//! The final score is the text score times the document's `boost`: more downloads lift a
//! package mildly ([`super::document::download_boost`]), deprecated packages and listings
//! are weighed below maintained packages ([`super::document::DEPRECATED_BOOST`],
//! [`super::document::LISTING_BOOST`]). Equal scores order by name.

use std::collections::BTreeMap;
use std::sync::Arc;

/// Match counts per facet category and value.
type FacetCounts = BTreeMap<&'static str, BTreeMap<String, u64>>;

use serde_json::Value;
use tantivy::collector::sort_key::{NaturalComparator, SortByString};
use tantivy::collector::{Count, SegmentSortKeyComputer, SortKeyComputer, TopDocs};
use tantivy::columnar::ColumnValues;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, DisjunctionMaxQuery, FuzzyTermQuery, Occur, Query, TermQuery,
};
use tantivy::schema::{Facet, Field, IndexRecordOption, Value as _};
use tantivy::{DocAddress, DocId, Index, Order, Score, Searcher, SegmentReader, TantivyDocument, Term};

use super::facets::{FacetCounter, FacetTables};
use super::schema::{Fields, squash};

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

/// What a search found: the number of matches (full and partial), how many of them
/// match every required word (`full`; they come first), the best `limit` hits (as the API
/// shows them), and when asked for, for each facet category the counts of its values
/// among the matches (empty otherwise).
#[derive(Debug, Clone)]
pub struct Found {
    pub total: usize,
    pub full: usize,
    pub hits: Vec<Value>,
    pub facets: BTreeMap<&'static str, BTreeMap<String, u64>>,
}

/// The name and, for packages, the title.
const NAME: f32 = 4.0;
/// A word matching a joined form (`xroad` for `X-Road`), or two query words matching a
/// single word (`rapid pro` for `RapidPro`).
const JOINED: f32 = 3.0;
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
/// When fewer documents than this match half the required words, partial matches need
/// only one.
const FEW: usize = 10;
/// Added to a partial match's score per required word it matches.
const COVER: f32 = 5.0;
/// Words too common to require: they may match, but need not.
const FILLERS: [&str; 12] = [
    "a", "an", "and", "for", "in", "of", "on", "or", "the", "to", "with", "by",
];
/// Words that describe nearly every entry of a catalogue of open-source software for
/// governments: like fillers, they may match but need not (`birth registration system`
/// requires `birth` and `registration`).
const GENERIC: [&str; 17] = [
    "system",
    "systems",
    "software",
    "platform",
    "platforms",
    "solution",
    "solutions",
    "tool",
    "tools",
    "app",
    "apps",
    "application",
    "applications",
    "open",
    "source",
    "opensource",
    "government",
];

/// Whether a query word is optional (see [`FILLERS`] and [`GENERIC`]).
fn optional(word: &str) -> bool {
    FILLERS.contains(&word) || GENERIC.contains(&word)
}

fn boosted(q: Box<dyn Query>, boost: f32) -> (Occur, Box<dyn Query>) {
    (Occur::Should, Box::new(BoostQuery::new(q, boost)))
}

fn boost(q: Box<dyn Query>, b: f32) -> Box<dyn Query> {
    Box::new(BoostQuery::new(q, b))
}

fn term(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::WithFreqs,
    ))
}

/// How much the fields other than a word's best one add to its score.
const TIE_BREAKER: f32 = 0.3;

/// The edit distance allowed in a word's fuzzy terms: 1 from 4 characters.
fn distance(word: &str) -> u8 {
    if word.chars().count() >= 4 { 1 } else { 0 }
}

/// One word, with `pairs`, its concatenations with its neighbours (`rapidpro` for `rapid`
/// in `rapid pro`): its best field match counts in full, the others at [`TIE_BREAKER`],
/// so that a word found exactly in one field is not outweighed by loose (fuzzy) matches
/// elsewhere.
fn word_query(f: &Fields, word: &str, pairs: &[String]) -> Box<dyn Query> {
    let mut disjuncts = vec![
        boost(term(f.stem, super::schema::stem(word)), STEM),
        boost(term(f.joined, word), JOINED),
    ];
    // (field, boost, typo-tolerant and prefix): licence and extra words match exactly.
    for (field, b, fuzzy) in [
        (f.name, NAME, true),
        (f.keywords, KEYWORDS, true),
        (f.license, LICENSE, false),
        (f.countries, COUNTRIES, true),
        (f.extra, EXTRA, false),
        (f.description, DESCRIPTION, true),
    ] {
        disjuncts.push(boost(term(field, word), b));
        if fuzzy {
            let t = Term::from_field_text(field, word);
            disjuncts.push(boost(
                Box::new(FuzzyTermQuery::new_prefix(t, distance(word), true)),
                b * FUZZY,
            ));
        }
    }
    // Two words that are one in a name, title or keyword (`rapid pro`, `dhis 2`).
    for pair in pairs {
        for field in [f.name, f.keywords, f.joined] {
            disjuncts.push(boost(term(field, pair), JOINED));
        }
        let t = Term::from_field_text(f.name, pair);
        disjuncts.push(boost(
            Box::new(FuzzyTermQuery::new_prefix(t, distance(pair), true)),
            JOINED * FUZZY,
        ));
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

/// The queries of a request: `all` (every required word: the full matches) and, for two
/// required words or more, `partial` (some of them, not all).
#[derive(Debug)]
pub struct Plan {
    pub all: Box<dyn Query>,
    pub partial: Option<Partial>,
}

/// The partial matches of a [`Plan`].
#[derive(Debug)]
pub struct Partial {
    /// The documents that match at least `min_words` required words: full and partial
    /// matches, for the total and the facet counts.
    pub any: Box<dyn Query>,
    /// The documents of `any` that are not full matches, ranked by words matched.
    pub only: Box<dyn Query>,
    /// How many required words a partial match has at least.
    pub min_words: usize,
}

/// The queries for `req`, with its filters. A partial match needs at least `min_words`
/// required words; `None`: half of them, rounded up.
pub fn build(index: &Index, f: &Fields, req: &Request, min_words: Option<usize>) -> tantivy::Result<Plan> {
    let mut words = words(index, f.name, &req.q)?;
    words.truncate(16);
    // A query of optional words only requires them all.
    let only_optional = words.iter().all(|w| optional(w));
    let word = |i: usize| {
        let pairs: Vec<String> = [
            i.checked_sub(1).map(|j| (j, i)),
            (i + 1 < words.len()).then_some((i, i + 1)),
        ]
        .into_iter()
        .flatten()
        .map(|(a, b)| format!("{}{}", words[a], words[b]))
        .collect();
        word_query(f, &words[i], &pairs)
    };
    let required: Vec<usize> = (0..words.len())
        .filter(|&i| only_optional || !optional(&words[i]))
        .collect();

    // What every query shares: optional words, spec bonuses, exact names, filters.
    let shared = || -> Vec<(Occur, Box<dyn Query>)> {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (i, w) in words.iter().enumerate() {
            if !required.contains(&i) {
                clauses.push((Occur::Should, word(i)));
            }
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
            let squashed = squash(&exact);
            for name in [
                Some(exact.clone()),
                (squashed != exact && !squashed.is_empty()).then_some(squashed),
            ]
            .into_iter()
            .flatten()
            {
                clauses.push(boosted(
                    Box::new(TermQuery::new(
                        Term::from_field_text(f.exact, &name),
                        IndexRecordOption::Basic,
                    )),
                    EXACT_NAME,
                ));
            }
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
        clauses
    };
    let every_word = || -> Vec<(Occur, Box<dyn Query>)> { required.iter().map(|&i| (Occur::Must, word(i))).collect() };

    let mut all = shared();
    if words.is_empty() {
        all.push((Occur::Must, Box::new(AllQuery)));
    }
    all.extend(every_word());
    let all: Box<dyn Query> = Box::new(BooleanQuery::new(all));
    // Partial matches of filler words alone would be noise.
    if required.len() < 2 || only_optional {
        return Ok(Plan { all, partial: None });
    }

    let min_words = min_words.unwrap_or(required.len().div_ceil(2)).clamp(1, required.len());
    // Each required word, plus COVER when it matches.
    let some_words = || -> Box<dyn Query> {
        let covered = required
            .iter()
            .map(|&i| {
                let q: Box<dyn Query> = Box::new(BooleanQuery::new(vec![
                    (Occur::Must, word(i)),
                    (Occur::Must, Box::new(ConstScoreQuery::new(Box::new(AllQuery), COVER))),
                ]));
                (Occur::Should, q)
            })
            .collect();
        Box::new(BooleanQuery::with_minimum_required_clauses(covered, min_words))
    };
    let mut any = shared();
    any.push((Occur::Must, some_words()));
    let mut only = shared();
    only.push((Occur::Must, some_words()));
    only.push((Occur::MustNot, Box::new(BooleanQuery::new(every_word()))));
    Ok(Plan {
        all,
        partial: Some(Partial {
            any: Box::new(BooleanQuery::new(any)),
            only: Box::new(BooleanQuery::new(only)),
            min_words,
        }),
    })
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

/// The best `limit` documents of `query` after `offset`: best boosted score first, equal
/// scores (fuzzy and prefix matches score a constant) in name order, so that the answer
/// does not depend on the order the documents were written in.
fn top(
    limit: usize,
    offset: usize,
) -> impl tantivy::collector::Collector<Fruit = Vec<((Score, Option<String>), DocAddress)>> {
    TopDocs::with_limit(limit.max(1))
        .and_offset(offset)
        .order_by(((Boosted, Order::Desc), (SortByString::for_field("sort"), Order::Asc)))
}

/// The stored hits of `top`; with `partial`, each marked `"partial": true`.
fn hits<K>(
    searcher: &Searcher,
    f: &Fields,
    top: Vec<(K, DocAddress)>,
    partial: bool,
    out: &mut Vec<Value>,
) -> tantivy::Result<()> {
    for (_key, addr) in top {
        let doc: TantivyDocument = searcher.doc(addr)?;
        let stored = doc.get_first(f.hit).and_then(|v| v.as_str()).unwrap_or("{}");
        let mut hit = serde_json::from_str(stored).unwrap_or(Value::Null);
        if partial && let Value::Object(m) = &mut hit {
            m.insert("partial".to_owned(), Value::Bool(true));
        }
        out.push(hit);
    }
    Ok(())
}

/// Run `req`: full matches, then partial ones; total and (when asked for) facet counts
/// over both.
pub fn run(
    searcher: &Searcher,
    index: &Index,
    f: &Fields,
    tables: &FacetTables,
    req: &Request,
) -> tantivy::Result<Found> {
    let mut plan = build(index, f, req, None)?;
    let Some(mut partial) = plan.partial.take() else {
        let (top, total, facets) = if req.facets {
            searcher.search(&plan.all, &(top(req.limit, req.offset), Count, FacetCounter(tables)))?
        } else {
            let (top, total) = searcher.search(&plan.all, &(top(req.limit, req.offset), Count))?;
            (top, total, BTreeMap::new())
        };
        let mut out = Vec::with_capacity(top.len());
        hits(searcher, f, top, false, &mut out)?;
        return Ok(Found {
            total,
            full: total,
            hits: out,
            facets,
        });
    };
    let count = |any: &dyn Query| -> tantivy::Result<(usize, FacetCounts)> {
        if req.facets {
            searcher.search(any, &(Count, FacetCounter(tables)))
        } else {
            Ok((searcher.search(any, &Count)?, BTreeMap::new()))
        }
    };
    let (mut total, mut facets) = count(partial.any.as_ref())?;
    if total < FEW && partial.min_words > 1 {
        // Few documents have half the words: take those that have any.
        if let Some(p) = build(index, f, req, Some(1))?.partial {
            partial = p;
            (total, facets) = count(partial.any.as_ref())?;
        }
    }
    let (full_top, full) = searcher.search(&plan.all, &(top(req.limit, req.offset), Count))?;
    let mut out = Vec::with_capacity(req.limit);
    hits(searcher, f, full_top, false, &mut out)?;
    if out.len() < req.limit && total > full {
        let skip = req.offset.saturating_sub(full);
        let more = searcher.search(&partial.only, &top(req.limit - out.len(), skip))?;
        hits(searcher, f, more, true, &mut out)?;
    }
    Ok(Found {
        total,
        full,
        hits: out,
        facets,
    })
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

    /// Full matches first, then partial ones (more words matched first), marked; a
    /// title and joined words are found.
    #[test]
    fn partial_matches_follow_full_ones() {
        let (schema, f) = schema::build();
        let index = Index::create_in_ram(schema);
        let mut w = index.writer_with_num_threads(1, 15_000_000).unwrap();
        let package = |name: &str, title: Option<&str>, description: &str| Listing {
            name: name.into(),
            title: title.map(str::to_owned),
            license: "MIT".into(),
            description: description.into(),
            ..Default::default()
        };
        for l in [
            package("a/full", None, "Offline mobile data collection"),
            package("a/three", None, "Offline data collection"),
            package("a/two", None, "Mobile data"),
            package("a/one", None, "Offline maps"),
            package("rapidpro/rapidpro", Some("RapidPro"), "Messaging"),
            package("mifos/ph-ee", Some("Payment Hub EE"), "Disbursements"),
        ] {
            w.add_document(document(&l, &f)).unwrap();
        }
        w.commit().unwrap();
        let reader = index.reader().unwrap();
        let req = Request {
            q: "offline mobile data collection".into(),
            limit: 10,
            ..Default::default()
        };
        let found = run(&reader.searcher(), &index, &f, &FacetTables::default(), &req).unwrap();
        let got: Vec<(&str, bool)> = found
            .hits
            .iter()
            .map(|h| (h["name"].as_str().unwrap(), h["partial"] == Value::Bool(true)))
            .collect();
        // Half the words (two) are needed, but fewer than FEW documents have them: one is enough.
        assert_eq!(
            got,
            [("a/full", false), ("a/three", true), ("a/two", true), ("a/one", true)]
        );
        assert_eq!((found.total, found.full), (4, 1));
        assert_eq!(names(&index, &f, "rapid pro"), ["rapidpro/rapidpro"]);
        assert_eq!(names(&index, &f, "payment hub"), ["mifos/ph-ee"]);
        assert_eq!(names(&index, &f, "paymenthub"), ["mifos/ph-ee"]);
        assert_eq!(names(&index, &f, "Payment Hub EE"), ["mifos/ph-ee"]);
        assert!(names(&index, &f, "qqqq zzzz").is_empty());
    }
}
