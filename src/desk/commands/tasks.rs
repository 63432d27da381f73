//! Commands on a task: done, reopened.

use super::super::draft::Draft;
use super::super::model::TaskState;
use super::super::view::ViewResult;
use super::{Command, Done, entry};

/// `#hecho T-…`.
pub fn done(d: &mut Draft<'_>, c: &Command, who: &str) -> ViewResult<Done> {
    let Some(mut t) = d.task(&c.target)? else {
        return Ok(Err(format!("no existe la tarea {}", c.target)));
    };
    t.state = TaskState::Hecha;
    t.history.push(entry(d, who, "Hecha".into()));
    let id = t.id.clone();
    d.save_task(t);
    Ok(Ok(format!("tarea {id} hecha")))
}

/// `#reabrir T-…`: pending again.
pub fn reopen(d: &mut Draft<'_>, c: &Command, who: &str) -> ViewResult<Done> {
    let Some(mut t) = d.task(&c.target)? else {
        return Ok(Err(format!("no existe la tarea {}", c.target)));
    };
    if t.is_open() {
        return Ok(Err(format!("la tarea {} está pendiente", t.id)));
    }
    let was = t.state;
    t.state = TaskState::Pendiente;
    t.history.push(entry(d, who, format!("Reabierta (estaba {was})")));
    let id = t.id.clone();
    d.save_task(t);
    Ok(Ok(format!("tarea {id} reabierta")))
}
