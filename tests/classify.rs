//! Classification over the shared corpora and the shipped rule tests.

mod support;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use support::*;

#[test]
fn the_whole_real_corpus_goes_through_classify_without_a_panic() {
    if skip_without_shared("the_whole_real_corpus_goes_through_classify_without_a_panic") {
        return;
    }
    let corpus = shared().join("corpus/real");
    let expected = files(&corpus);
    assert!(expected.len() > 1000, "the real corpus should hold ~1,200 messages, found {}", expected.len());
    let out = buzon(&root(), &["classify", "--json", corpus.to_str().unwrap_or_default()]);
    assert!(out.status.success(), "exit {:?}: {}", out.status, stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), expected.len(), "one JSON line per file");
    let mut with_problems = 0;
    for (line, path) in lines.iter().zip(&expected) {
        let v: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => panic!("not JSON ({e}): {line}"),
        };
        assert_eq!(v["file"].as_str(), path.to_str(), "input order is kept");
        let labels = v["labels"].as_array().map(Vec::len).unwrap_or(0);
        assert!(labels >= 1, "every message gets at least one label: {line}");
        for key in ["documents", "references", "rules"] {
            assert!(!v[key].is_null(), "{key} missing in {line}");
        }
        if v.get("problems").is_some() {
            with_problems += 1;
        }
    }
    // Malformed mail is recorded, not hidden.
    assert!(with_problems > 10, "problems should be recorded for malformed messages, got {with_problems}");
}

#[test]
fn every_scenario_classifies_as_expected_json_says() {
    if skip_without_shared("every_scenario_classifies_as_expected_json_says") {
        return;
    }
    let dir = shared().join("corpus/scenarios");
    let text = std::fs::read_to_string(dir.join("expected.json")).unwrap_or_default();
    let expected: BTreeMap<String, Value> = serde_json::from_str(&text).unwrap_or_default();
    assert!(expected.len() >= 15, "expected.json has {} cases", expected.len());
    let mut args = vec!["classify".to_string(), "--json".to_string()];
    args.extend(expected.keys().map(|k| dir.join(k).display().to_string()));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = buzon(&root(), &argv);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut failures = Vec::new();
    for (line, (name, want)) in stdout(&out).lines().zip(&expected) {
        let got: Value = serde_json::from_str(line).unwrap_or_default();
        let labels: BTreeSet<&str> = got["labels"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        let set = |v: &Value| -> Vec<String> {
            v.as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_string).collect()
        };
        let want_labels = set(&want["labels"]);
        for l in &want_labels {
            if !labels.contains(l.as_str()) {
                failures.push(format!("{name}: missing label {l}, got {labels:?}"));
            }
        }
        if want_labels.is_empty() && labels != BTreeSet::from(["otro"]) {
            failures.push(format!("{name}: expected otro, got {labels:?}"));
        }
        for l in set(&want["not"]) {
            if labels.contains(l.as_str()) {
                failures.push(format!("{name}: must not have {l}"));
            }
        }
        let kinds: BTreeSet<String> = got["documents"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| d["kind"].as_str())
            .map(str::to_string)
            .collect();
        for k in set(&want["docs"]) {
            if !kinds.contains(&k) {
                failures.push(format!("{name}: missing document {k}, got {kinds:?}"));
            }
        }
        if let Some(refs) = want["refs"].as_object() {
            for (kind, values) in refs {
                for v in set(values) {
                    let found = got["references"][kind]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|x| x.as_str() == Some(v.as_str()));
                    if !found {
                        failures.push(format!("{name}: missing reference {kind}={v}, got {}", got["references"]));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn shipped_rule_tests_pass_and_cover_every_label_and_kind() {
    let cfg = buzon::config::Config::load(&root().join("config.toml")).unwrap_or_else(|e| panic!("{e}"));
    let rules = buzon::rules::RuleSet::load(&cfg.rules_path).unwrap_or_else(|e| panic!("{e}"));
    let cases = buzon::rules::test::load_cases(&rules.dir.join("tests")).unwrap_or_else(|e| panic!("{e:?}"));
    assert!(cases.len() >= 40, "at least 40 rule tests, found {}", cases.len());
    let (mut must, mut must_not) = (BTreeSet::new(), BTreeSet::new());
    let (mut kinds, mut no_kinds) = (BTreeSet::new(), BTreeSet::new());
    for c in &cases {
        must.extend(c.labels.iter().flatten().cloned());
        must.extend(c.has.iter().cloned());
        must_not.extend(c.not.iter().cloned());
        kinds.extend(c.docs.iter().cloned());
        no_kinds.extend(c.nodocs.iter().cloned());
    }
    for l in &rules.labels {
        assert!(must.contains(l), "no rule test where label {l} must match");
        if l != "otro" {
            assert!(must_not.contains(l), "no rule test where label {l} must not match");
        }
    }
    for k in &rules.kinds {
        assert!(kinds.contains(k), "no rule test where document kind {k} must be found");
        assert!(no_kinds.contains(k), "no rule test where document kind {k} must not be found");
    }
    let opts = buzon::mail::ParseOptions::default();
    let (clients, counterparts) =
        buzon::clients::load_all(&root().join("clients.toml"), None).unwrap_or_else(|e| panic!("{e}"));
    let directory = buzon::clients::Directory {
        desk_address: "ops@cli.test".into(),
        staff_domains: vec!["cli.test".into()],
        clients,
        counterparts,
    };
    let role = |a: &str| directory.sender(a).role();
    let failures: Vec<String> = cases
        .into_iter()
        .map(|c| buzon::rules::test::run_case(&rules, c, &opts, &role))
        .filter(|o| !o.failures.is_empty())
        .map(|o| format!("{}: {}", o.case.name, o.failures.join("; ")))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn rules_test_command_fails_with_a_readable_diff() {
    let inst = Instance::new();
    inst.write(
        "rules/tests/99-broken.test",
        "=== a thank-you is not a reclamo\nlabels: reclamo\n---\nFrom: a@andestextil.test\nSubject: gracias\n\nMuchas gracias.\n",
    );
    let out = inst.run(&["rules", "test"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(text.contains("FAIL rules/tests/99-broken.test:1: a thank-you is not a reclamo"), "{text}");
    assert!(text.contains("labels: expected [reclamo], got [otro]"), "{text}");
    assert!(text.contains("1 failed"), "{text}");
}

#[test]
fn classify_walks_folders_recursively_whatever_the_names() {
    let inst = Instance::new();
    inst.write("mails/a/no-extension", "From: a@andestextil.test\nSubject: Reclamo\n\nEs inaceptable.\n");
    inst.write("mails/b/c/x.txt", "garbage \u{0} bytes");
    let out = inst.run(&["classify", "--json", "mails"]);
    assert!(out.status.success());
    let lines: Vec<Value> = stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap_or_default()).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["file"], "mails/a/no-extension");
    assert!(lines[0]["labels"].as_array().is_some_and(|a| a.iter().any(|l| l == "reclamo")));
}
