use super::*;
use crate::desk::effect::Sequence;

#[test]
fn a_snapshot_left_unfinished_by_a_crash_does_not_stop_the_store() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("store");
    {
        let s = Store::open(&path).unwrap_or_else(|e| panic!("{e}"));
        s.commit(None, &[Effect::Sequence { name: Sequence::Tasks, value: 7 }]).unwrap_or_else(|e| panic!("{e}"));
        s.flush().unwrap_or_else(|e| panic!("{e}"));
    }
    // What a kill -9 during sled's snapshot writing leaves behind.
    std::fs::write(path.join("snap.00000000FFFFFFFF.generating"), b"").unwrap_or_else(|e| panic!("{e}"));
    // sled's flusher thread may hold the dropped database's lock a moment
    // longer (the daemon waits it out the same way).
    let started = std::time::Instant::now();
    let s = loop {
        match Store::open(&path) {
            Err(StoreError::Locked(_)) if started.elapsed() < std::time::Duration::from_secs(10) => {
                std::thread::sleep(std::time::Duration::from_millis(50))
            }
            r => break r.unwrap_or_else(|e| panic!("the store must open after a crash: {e}")),
        }
    };
    assert_eq!(crate::desk::View::sequence(&s, &Sequence::Tasks).unwrap_or(0), 7);
}

#[test]
fn the_schedule_index_keeps_one_entry_per_subject_in_time_order() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let s = Store::open(&dir.path().join("store")).unwrap_or_else(|e| panic!("{e}"));
    let at = |h: i64| DateTime::from_timestamp(1_800_000_000 + h * 3600, 0).unwrap_or_default();
    let sched = |subject: Subject, t: Option<DateTime<Utc>>| Effect::Schedule { subject, at: t };
    let commit = |e: &[Effect]| s.commit(None, e).unwrap_or_else(|e| panic!("{e}"));
    let (r1, t1, o1) = (Subject::Reclamo("R-1".into()), Subject::Task("T-1".into()), Subject::Review("OC-1".into()));
    commit(&[sched(r1.clone(), Some(at(5))), sched(t1.clone(), Some(at(3)))]);
    assert_eq!(s.next_scheduled().ok().flatten(), Some(at(3)));
    // Moving a subject drops its old entry, in the same transaction.
    commit(&[sched(t1.clone(), Some(at(7))), sched(o1.clone(), Some(at(-1)))]);
    assert_eq!(s.next_scheduled().ok().flatten(), Some(at(-1)), "earliest first");
    assert_eq!(s.scheduled_until(at(5)).unwrap_or_default(), vec![o1.clone(), r1.clone()]);
    assert_eq!(s.scheduled(&t1).ok().flatten(), Some(at(7)));
    commit(&[sched(o1, None), sched(r1, None)]);
    assert_eq!(s.scheduled_until(at(100)).unwrap_or_default(), vec![t1]);
    assert_eq!(s.next_scheduled().ok().flatten(), Some(at(7)));
}
