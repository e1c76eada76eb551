//! `govstore search` against a registry that answers with a package and a DPG listing:
//! the listing is marked as not installable in the text output, and both pass through
//! `--json` with their kind.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::Command;

/// The answer of `/api/v1/search`, as the server gives it.
const ANSWER: &str = r#"{"total":2,"facets":{},"results":[
 {"kind":"listing","id":7,"name":"X-Road","description":"Data exchange between organisations.","license":"MIT","licenses":["MIT"],"installable":false,"source":"dpg","stage":"DPG","website":"https://x-road.global/","countries":["EE"],"see_also":["x-road/security-server"]},
 {"kind":"package","name":"x-road/security-server","version":"7.8.0","description":"The X-Road Security Server.","license":"MIT","implements":["govstack/information-mediator@1.1.1"],"yanked":false,"installable":true,"downloads":12,"compliance":null}
]}"#;

/// A registry that answers every request (at most `n`) with [`ANSWER`].
fn registry(n: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(n) {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap() > 0 && line != "\r\n" {
                line.clear();
            }
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                ANSWER.len()
            );
            stream.write_all(head.as_bytes()).unwrap();
            stream.write_all(ANSWER.as_bytes()).unwrap();
        }
    });
    format!("http://{addr}")
}

fn search(args: &[&str]) -> String {
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_govstore"))
        .args(["search", "x-road", "--registry", &registry(1)])
        .args(args)
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path())
        .env_remove("GOVSTORE_TOKEN")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn listings_are_marked_not_installable() {
    let text = search(&[]);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "X-Road (listing, not installable)", "{text}");
    assert_eq!(lines[2], "    see the package x-road/security-server", "{text}");
    assert!(text.contains("x-road/security-server 7.8.0\n"), "{text}");
    assert!(!text.contains("x-road/security-server 7.8.0 (listing"), "{text}");
}

#[test]
fn json_passes_kinds_through() {
    let v: serde_json::Value = serde_json::from_str(&search(&["--json"])).unwrap();
    let hits = v["results"].as_array().unwrap();
    assert_eq!(hits[0]["kind"], "listing");
    assert_eq!(hits[0]["id"], 7);
    assert_eq!(hits[0]["installable"], false);
    assert_eq!(hits[0]["see_also"], serde_json::json!(["x-road/security-server"]));
    assert_eq!(hits[1]["kind"], "package");
    assert_eq!(hits[1]["installable"], true);
    assert_eq!(hits[1]["version"], "7.8.0");
}
