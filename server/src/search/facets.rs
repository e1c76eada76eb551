//! Facet counts over a search's matches, from tables built once per index segment.
//!
//! tantivy's `FacetCollector` streams every segment's facet dictionary on every query and
//! turns each counted ordinal back into a path; with 100,000 documents and a query that
//! matches most of them, that was a third of the search time. Segments never change
//! once written, so [`FacetTables`] reads each segment's facet column once into a flat
//! table: per document, its facet values as numbers shared by all segments. It is the
//! index reader's [`Warmer`]: tables are built when a reload opens a segment, before the
//! new searcher is published, and dropped when no live searcher uses their segment.
//! Counting a match is then a few array increments ([`FacetCounter`]), and only the
//! values that were counted are turned into names, once per query.
//!
//! Facet paths are `/category/value` (see [`super::schema::CATEGORIES`]); anything else
//! in the facet field is not counted. Value numbers are never reused: the table of names
//! only grows, by the distinct facet values the index has held since the server started
//! (a few thousand for a large catalogue).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, PoisonError, RwLock};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::index::SegmentId;
use tantivy::schema::Facet;
use tantivy::{DocId, Score, Searcher, SearcherGeneration, SegmentOrdinal, SegmentReader, Warmer};

use super::schema::CATEGORIES;

/// The facet field's name in the schema.
const FIELD: &str = "facets";

/// Facet values by number, across segments.
#[derive(Default)]
struct Values {
    /// (index in `CATEGORIES`, value) by number.
    names: Vec<(usize, Box<str>)>,
    /// Numbers by value, one map per category.
    numbers: [HashMap<Box<str>, u32>; CATEGORIES.len()],
}

impl Values {
    fn number(&mut self, category: usize, value: &str) -> u32 {
        if let Some(&n) = self.numbers[category].get(value) {
            return n;
        }
        let n = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push((category, value.into()));
        self.numbers[category].insert(value.into(), n);
        n
    }
}

/// One segment's table: document `d` has the values `values[starts[d]..starts[d + 1]]`.
#[derive(Debug)]
struct SegmentFacets {
    starts: Vec<u32>,
    values: Vec<u32>,
    /// One more than the highest value number in `values`.
    width: usize,
}

/// The per-segment tables of one index, shared by its searches.
#[derive(Default)]
pub struct FacetTables {
    values: RwLock<Values>,
    segments: RwLock<HashMap<SegmentId, Arc<SegmentFacets>>>,
}

impl Warmer for FacetTables {
    /// Build the tables of the searcher's segments that have none.
    fn warm(&self, searcher: &Searcher) -> tantivy::Result<()> {
        for segment in searcher.segment_readers() {
            self.segment(segment)?;
        }
        Ok(())
    }

    /// Drop the tables of segments that no live searcher has.
    fn garbage_collect(&self, live: &[&SearcherGeneration]) {
        self.segments
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|id, _| live.iter().any(|g| g.segments().contains_key(id)));
    }
}

impl FacetTables {
    /// The table of `segment`, built now if warming has not built it (a reader without
    /// this warmer, as in tests).
    fn segment(&self, segment: &SegmentReader) -> tantivy::Result<Arc<SegmentFacets>> {
        let id = segment.segment_id();
        if let Some(t) = self.segments.read().unwrap_or_else(PoisonError::into_inner).get(&id) {
            return Ok(t.clone());
        }
        let table = Arc::new(self.build(segment)?);
        self.segments
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, table.clone());
        Ok(table)
    }

    fn build(&self, segment: &SegmentReader) -> tantivy::Result<SegmentFacets> {
        let reader = segment.facet_reader(FIELD)?;
        // The segment's facet ordinals -> value numbers (u32::MAX: not counted).
        let mut numbers = vec![u32::MAX; reader.num_facets()];
        {
            let mut values = self.values.write().unwrap_or_else(PoisonError::into_inner);
            let mut terms = reader.facet_dict().stream()?;
            while terms.advance() {
                let Ok(facet) = Facet::from_encoded(terms.key().to_vec()) else {
                    continue;
                };
                let path = facet.to_path();
                let (Some(category), Some(value), 2) = (path.first(), path.get(1), path.len()) else {
                    continue;
                };
                if let Some(c) = CATEGORIES.iter().position(|c| c == category) {
                    numbers[terms.term_ord() as usize] = values.number(c, value);
                }
            }
        }
        let max_doc = segment.max_doc() as usize;
        let mut starts = Vec::with_capacity(max_doc + 1);
        let mut values = Vec::with_capacity(max_doc * 8);
        let mut width = 0;
        let mut doc_values = Vec::new();
        starts.push(0);
        for doc in 0..segment.max_doc() {
            // Each value once per document, as a document either has a value or not.
            doc_values.clear();
            doc_values.extend(
                reader
                    .facet_ords(doc)
                    .filter_map(|ord| numbers.get(ord as usize).copied())
                    .filter(|&n| n != u32::MAX),
            );
            doc_values.sort_unstable();
            doc_values.dedup();
            if let Some(&max) = doc_values.last() {
                width = width.max(max as usize + 1);
            }
            values.extend_from_slice(&doc_values);
            starts.push(u32::try_from(values.len()).unwrap_or(u32::MAX));
        }
        Ok(SegmentFacets { starts, values, width })
    }

    /// The counts by category and value, from the counts by value number.
    fn names(&self, counts: &[u64]) -> BTreeMap<&'static str, BTreeMap<String, u64>> {
        let mut out: BTreeMap<&'static str, BTreeMap<String, u64>> =
            CATEGORIES.iter().map(|c| (*c, BTreeMap::new())).collect();
        let values = self.values.read().unwrap_or_else(PoisonError::into_inner);
        for (n, &count) in counts.iter().enumerate() {
            if count == 0 {
                continue;
            }
            if let Some((category, value)) = values.names.get(n)
                && let Some(by_value) = out.get_mut(CATEGORIES[*category])
            {
                *by_value.entry(value.to_string()).or_default() += count;
            }
        }
        out
    }
}

impl std::fmt::Debug for FacetTables {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let segments = self.segments.read().unwrap_or_else(PoisonError::into_inner).len();
        let values = self.values.read().unwrap_or_else(PoisonError::into_inner).names.len();
        f.debug_struct("FacetTables")
            .field("segments", &segments)
            .field("values", &values)
            .finish()
    }
}

/// Counts the facet values of the matching documents: a tantivy collector over
/// [`FacetTables`].
#[derive(Debug)]
pub struct FacetCounter<'a>(pub &'a FacetTables);

/// The counts of one segment, by value number.
#[derive(Debug)]
pub struct SegmentCounter {
    table: Arc<SegmentFacets>,
    counts: Vec<u64>,
}

impl Collector for FacetCounter<'_> {
    type Fruit = BTreeMap<&'static str, BTreeMap<String, u64>>;
    type Child = SegmentCounter;

    fn for_segment(&self, _: SegmentOrdinal, segment: &SegmentReader) -> tantivy::Result<SegmentCounter> {
        let table = self.0.segment(segment)?;
        let counts = vec![0; table.width];
        Ok(SegmentCounter { table, counts })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, segments: Vec<Vec<u64>>) -> tantivy::Result<Self::Fruit> {
        let mut total: Vec<u64> = Vec::new();
        for counts in segments {
            if total.len() < counts.len() {
                total.resize(counts.len(), 0);
            }
            for (t, c) in total.iter_mut().zip(counts) {
                *t += c;
            }
        }
        Ok(self.0.names(&total))
    }
}

impl SegmentCollector for SegmentCounter {
    type Fruit = Vec<u64>;

    fn collect(&mut self, doc: DocId, _: Score) {
        let t = &*self.table;
        let (Some(&start), Some(&end)) = (t.starts.get(doc as usize), t.starts.get(doc as usize + 1)) else {
            return;
        };
        for &n in &t.values[start as usize..end as usize] {
            self.counts[n as usize] += 1;
        }
    }

    fn harvest(self) -> Vec<u64> {
        self.counts
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use tantivy::collector::FacetCollector;
    use tantivy::query::{AllQuery, Query, TermQuery};
    use tantivy::schema::{FacetOptions, IndexRecordOption, STRING, Schema};
    use tantivy::{Index, IndexWriter, TantivyDocument, Term, doc};

    use super::*;

    /// tantivy's own facet collector over the same matches: the reference.
    fn reference(searcher: &Searcher, query: &dyn Query) -> BTreeMap<&'static str, BTreeMap<String, u64>> {
        let mut c = FacetCollector::for_field(FIELD);
        for category in CATEGORIES {
            c.add_facet(Facet::from_path([category]));
        }
        let counts = searcher.search(query, &c).unwrap();
        CATEGORIES
            .iter()
            .map(|category| {
                let values = counts
                    .get(Facet::from_path([*category]))
                    .map(|(f, n)| (f.to_path()[1].to_owned(), n))
                    .collect();
                (*category, values)
            })
            .collect()
    }

    /// Over several segments, with deleted documents, repeated values and values holding
    /// a slash, the counts are tantivy's; tables follow merges and deletes.
    #[test]
    fn counts_are_the_facet_collectors() {
        let mut b = Schema::builder();
        let id = b.add_text_field("id", STRING);
        let facets = b.add_facet_field(FIELD, FacetOptions::default());
        let index = Index::create_in_ram(b.build());
        let mut w: IndexWriter<TantivyDocument> = index.writer_with_num_threads(1, 15_000_000).unwrap();
        let tables = FacetTables::default();
        let reader = index.reader().unwrap();
        let specs = ["govstack/identity", "govstack/payments", "govstack/consent"];
        let countries = ["KE", "IN", "EE", "SL"];
        for batch in 0..4 {
            for i in 0..50 {
                let n = batch * 50 + i;
                let mut d = doc!(id => format!("d{n}"));
                d.add_facet(facets, Facet::from_path(["spec", specs[n % 3]]));
                d.add_facet(facets, Facet::from_path(["country", countries[n % 4]]));
                d.add_facet(facets, Facet::from_path(["country", countries[(n / 4) % 4]]));
                d.add_facet(
                    facets,
                    Facet::from_path(["license", if n % 2 == 0 { "MPL-2.0" } else { "MIT" }]),
                );
                d.add_facet(facets, Facet::from_path(["signed", "yes"]));
                w.add_document(d).unwrap();
            }
            w.commit().unwrap();
        }
        for n in (0..200).step_by(7) {
            w.delete_term(Term::from_field_text(id, &format!("d{n}")));
        }
        w.commit().unwrap();
        reader.reload().unwrap();
        let searcher = reader.searcher();
        assert!(searcher.segment_readers().len() > 1);
        tables.warm(&searcher).unwrap();

        let spec = Term::from_facet(facets, &Facet::from_path(["spec", "govstack/payments"]));
        let queries: [Box<dyn Query>; 2] = [
            Box::new(AllQuery),
            Box::new(TermQuery::new(spec, IndexRecordOption::Basic)),
        ];
        for q in &queries {
            let ours = searcher.search(q.as_ref(), &FacetCounter(&tables)).unwrap();
            assert_eq!(ours, reference(&searcher, q.as_ref()));
        }
        let all = searcher.search(&AllQuery, &FacetCounter(&tables)).unwrap();
        assert_eq!(all["signed"]["yes"], 200 - 29);
        assert_eq!(all["spec"].len(), 3);
        assert!(all["sdg"].is_empty());

        // After a merge into one segment, the old tables go and the counts stay.
        let ids = index.searchable_segment_ids().unwrap();
        w.merge(&ids).wait().unwrap();
        w.wait_merging_threads().unwrap();
        reader.reload().unwrap();
        let searcher = reader.searcher();
        tables.warm(&searcher).unwrap();
        tables.garbage_collect(&[searcher.generation()]);
        assert_eq!(searcher.segment_readers().len(), 1);
        assert_eq!(tables.segments.read().unwrap().len(), 1);
        assert_eq!(searcher.search(&AllQuery, &FacetCounter(&tables)).unwrap(), all);
    }
}
