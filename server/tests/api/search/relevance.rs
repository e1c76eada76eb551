//! The repository's relevance set (`tests/relevance/queries.toml`): real ministry queries
//! against the catalogue `serve --demo` shows after `import dpg` (the example packages,
//! published signed, and the DPG registry extract as listings), scored as hit@5 (a
//! relevant entry among the first five) and MRR@10 (the mean of 1/rank of the first
//! relevant entry within ten, 0 beyond). Prints a table of every query and the figures;
//! fails below hit@5 0.95 or MRR@10 0.85, or when the set names an entry the catalogue
//! does not have.

use std::collections::BTreeSet;

use serde::Deserialize;

use super::{import_dpg, names, publish_catalogue, search, urlencode};
use crate::common::{Backend, TestApp};
use crate::on_both_backends;

on_both_backends!(relevance_set);

const QUERIES: &str = include_str!("../../../../tests/relevance/queries.toml");
const MIN_HIT_AT_5: f64 = 0.95;
const MIN_MRR_AT_10: f64 = 0.85;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Set {
    query: Vec<Query>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Query {
    q: String,
    relevant: Vec<String>,
}

/// The rank (from 1) of the first relevant name in `got`, if any.
fn first_relevant(got: &[String], relevant: &[String]) -> Option<usize> {
    got.iter().position(|n| relevant.contains(n)).map(|p| p + 1)
}

/// hit@5 and MRR@10 of the ranks of the first relevant results.
fn scores(ranks: &[Option<usize>]) -> (f64, f64) {
    let n = ranks.len() as f64;
    let hits = ranks.iter().filter(|r| r.is_some_and(|r| r <= 5)).count() as f64;
    let rr: f64 = ranks
        .iter()
        .map(|r| match r {
            Some(r) if *r <= 10 => 1.0 / *r as f64,
            _ => 0.0,
        })
        .sum();
    (hits / n, rr / n)
}

#[test]
fn scores_are_hit_at_5_and_mrr_at_10() {
    let (hit, mrr) = scores(&[Some(1), Some(2), Some(6), None]);
    assert_eq!(hit, 0.5);
    assert!((mrr - (1.0 + 0.5 + 1.0 / 6.0) / 4.0).abs() < 1e-9);
    assert_eq!(scores(&[Some(11)]), (0.0, 0.0));
    assert_eq!(
        first_relevant(&["a".into(), "b".into()], &["c".into(), "b".into()]),
        Some(2)
    );
}

async fn relevance_set(b: Backend) {
    let set: Set = toml::from_str(QUERIES).unwrap();
    assert!(set.query.len() >= 40, "{} queries", set.query.len());
    let app = TestApp::new(b).await;
    publish_catalogue(&app).await;
    import_dpg(&app).await;

    // Every entry the set names is in the catalogue (a misspelt name would never match).
    let db = &app.state.db.read;
    let mut known: BTreeSet<String> = govstore_server::db::listings::all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.name)
        .collect();
    known.extend(
        govstore_server::db::packages::all(db, 1000)
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.name),
    );
    let unknown: Vec<(&str, &str)> = set
        .query
        .iter()
        .flat_map(|q| q.relevant.iter().map(move |r| (q.q.as_str(), r.as_str())))
        .filter(|(_, r)| !known.contains(*r))
        .collect();
    assert!(unknown.is_empty(), "not in the catalogue: {unknown:?}");

    let mut ranks = Vec::new();
    let mut table = vec![format!("{:<56} {:>4}  first results", "query", "rank")];
    for query in &set.query {
        let found = search(&app, &format!("q={}&limit=10", urlencode(&query.q))).await;
        let got = names(&found);
        let rank = first_relevant(&got, &query.relevant);
        table.push(format!(
            "{:<56} {:>4}  {}",
            query.q,
            rank.map_or("-".to_owned(), |r| r.to_string()),
            got.iter().take(3).cloned().collect::<Vec<_>>().join(" | ")
        ));
        ranks.push(rank);
    }
    let (hit, mrr) = scores(&ranks);
    eprintln!(
        "relevance ({b:?}):\n{}\nrelevance: {} queries, hit@5 = {hit:.3}, MRR@10 = {mrr:.3}",
        table.join("\n"),
        ranks.len()
    );
    assert!(
        hit >= MIN_HIT_AT_5 && mrr >= MIN_MRR_AT_10,
        "hit@5 = {hit:.3} (at least {MIN_HIT_AT_5}), MRR@10 = {mrr:.3} (at least {MIN_MRR_AT_10})"
    );
}
