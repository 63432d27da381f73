//! Scale check of the time-driven work (issue 5): a store with 50,000
//! orders and 10,000 open deadlines (document reviews, reclamos, tasks with
//! due dates). Times one full scheduler pass at an instant when nothing is
//! due (how the scheduler finds what is due today: it scans) and the
//! rendering of one assistant's digest. Medians of 7.
//!
//! ```text
//! cargo bench --bench scheduler
//! ```

use std::time::Instant;

use buzon::desk::effect::Effect;
use buzon::desk::model::{Order, Reclamo, Task};
use chrono::{DateTime, Duration, Utc};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let app = match buzon::app::App::load(&root.join("config.toml")) {
        Ok(a) => a,
        Err(e) => panic!("{e}"),
    };
    let Ok(tmp) = tempfile::tempdir() else { panic!("tempdir") };
    let store = match buzon::store::Store::open(&tmp.path().join("store")) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    // Sunday 2026-12-06 03:00 Lima: no digest slot, nothing due yet.
    let now: DateTime<Utc> = match DateTime::parse_from_rfc3339("2026-12-06T03:00:00-05:00") {
        Ok(t) => t.with_timezone(&Utc),
        Err(e) => panic!("{e}"),
    };
    let clients = ["andestextil", "pacificfoods", "mineraaltiplano"];
    let start = Instant::now();
    let mut effects = Vec::new();
    for i in 0..50_000usize {
        let opened = now - Duration::days(400) + Duration::minutes(i as i64 * 11);
        let open = i >= 45_000; // the last 5,000 are open
        effects.push(Effect::SaveOrder(Order {
            id: format!("OC-2026-{i:06}"),
            client: clients[i % 3].to_string(),
            stage: if open { "abierta".into() } else { "archivada".into() },
            regime: "10".into(),
            regime_why: None,
            references: [("container".to_string(), [format!("MSKU{i:07}")].into_iter().collect())]
                .into_iter()
                .collect(),
            documents: Vec::new(),
            missing: if open { vec!["lista_empaque".into()] } else { Vec::new() },
            opened_at: opened,
            updated_at: opened,
            subject: format!("Documentos embarque {i}"),
            eta: None,
            vessel: None,
            // 2,000 open document reviews, due over the next weeks.
            review_due: (i >= 48_000).then(|| now + Duration::hours(24 + (i % 500) as i64)),
            regime_expires: None,
            message_ids: vec![format!("<m{i}@andestextil.test>")],
            history: Vec::new(),
            closed: !open,
            follow: Default::default(),
            money: Default::default(),
            extras: Vec::new(),
            thirdparty: Default::default(),
            cargo: Default::default(),
        }));
        if effects.len() == 1000 {
            let _ = store.commit(None, &effects);
            effects.clear();
        }
    }
    // 3,000 open reclamos and 5,000 pending tasks with deadlines.
    for i in 0..3_000usize {
        let received = now - Duration::hours(2);
        effects.push(Effect::SaveReclamo(Reclamo {
            id: format!("R-{i:06}"),
            client: Some(clients[i % 3].to_string()),
            order: Some(format!("OC-2026-{:06}", 45_000 + i)),
            received_at: received,
            due_at: now + Duration::days(3 + (i % 10) as i64),
            state: buzon::desk::model::ReclamoState::Abierto,
            from: format!("usuario{i}@andestextil.test"),
            from_name: String::new(),
            subject: "Reclamo por demora".into(),
            excerpt: "Es inaceptable la demora".into(),
            message_ids: vec![format!("<r{i}@andestextil.test>")],
            resolution: None,
            history: Vec::new(),
            closed_at: None,
        }));
    }
    for i in 0..5_000usize {
        effects.push(Effect::SaveTask(Task {
            id: format!("T-{i:06}"),
            kind: "alerta_tributos".into(),
            client: Some(clients[i % 3].to_string()),
            order: Some(format!("OC-2026-{:06}", 45_000 + i % 5_000)),
            due_at: Some(now + Duration::days(10 + (i % 30) as i64)),
            state: buzon::desk::model::TaskState::Pendiente,
            assignee: if i % 2 == 0 { "asistente1@cli.test".into() } else { "asistente2@cli.test".into() },
            summary: format!("Alerta: pago de tributos {i}"),
            created_at: now - Duration::days(1),
            message_id: None,
            history: Vec::new(),
            origin: None,
        }));
    }
    let _ = store.commit(None, &effects);
    let _ = store.flush();
    println!(
        "store: 50,000 orders (5,000 open), 10,000 open deadlines, built in {:.1} s",
        start.elapsed().as_secs_f64()
    );

    // The records were written without the pipeline: the first pass builds
    // the schedule index (as after an upgrade or a new config).
    let t = Instant::now();
    buzon::scheduler::ensure_schedule(&app, &store).unwrap_or_else(|e| panic!("{e}"));
    println!("schedule index rebuilt from the records in {:.0} ms", t.elapsed().as_secs_f64() * 1000.0);
    // A first pass does whatever the data makes due (and warms the cache).
    let first = buzon::scheduler::run_due(&app, &store, now).unwrap_or_else(|e| panic!("{e}"));
    println!("first pass queued {first} mail(s)");
    let mut pass = Vec::new();
    for _ in 0..7 {
        let t = Instant::now();
        let queued = buzon::scheduler::run_due(&app, &store, now).unwrap_or_else(|e| panic!("{e}"));
        pass.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(queued, 0, "nothing more is due at {now}: every job is idempotent");
    }
    let mut next = Vec::new();
    let mut found = None;
    for _ in 0..1_000 {
        let t = Instant::now();
        found = buzon::scheduler::next_due(&app, &store, now).unwrap_or_else(|e| panic!("{e}"));
        next.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    assert!(found.is_some_and(|t| t > now), "the next due instant is after {now}: {found:?}");
    let mut digest = Vec::new();
    for _ in 0..7 {
        let t = Instant::now();
        let (_, ctx) = buzon::desk::render_digest(&app.desk(), &store, "asistente1@cli.test", now)
            .unwrap_or_else(|e| panic!("{e}"));
        let r = app.templates.render("resumen_asistente", &ctx).unwrap_or_else(|e| panic!("{e}"));
        assert!(!r.text.is_empty());
        digest.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    println!("next due instant ({:?}): median {:.3} ms of 1,000 (target < 1 ms)", found, median(next.clone()));
    next.sort_by(f64::total_cmp);
    println!("  p99 {:.3} ms, max {:.3} ms", next[989], next[999]);
    println!("scheduler pass (finds nothing due): median {:.2} ms", median(pass));
    let t = Instant::now();
    let (o, r, k) = (store.open_orders(), store.reclamos(), store.tasks());
    println!(
        "  of which reading {} open orders, {} reclamos, {} tasks: {:.1} ms",
        o.map(|v| v.len()).unwrap_or(0),
        r.map(|v| v.len()).unwrap_or(0),
        k.map(|v| v.len()).unwrap_or(0),
        t.elapsed().as_secs_f64() * 1000.0
    );
    println!("digest for one assistant, rendered: median {:.1} ms (target < 100 ms)", median(digest));
}
