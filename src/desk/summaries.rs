//! Scheduled status summaries: clients with a `status` schedule in the
//! clients file get the summary of their open orders daily (business days)
//! or weekly, once per slot, only while they have open orders, only at
//! their own registered addresses.

use serde_json::json;

use super::context::{desk_block, local_fmt, order_context};
use super::deadlines::status_slot;
use super::draft::Draft;
use super::effect::{Effect, JobKey};
use super::reply::{Letter, Threading};
use super::status::STATUS_LIMIT;
use super::view::ViewResult;

pub fn handle(d: &mut Draft<'_>) -> ViewResult<()> {
    let desk = d.desk;
    let s = desk.settings;
    for c in &desk.directory.clients {
        let Some(sched) = &c.status else { continue };
        let Some(slot) = status_slot(sched, d.now, &s.calendar) else { continue };
        let key = JobKey::Status { client: c.id.clone(), slot };
        if d.view.job_done(&key)? {
            continue;
        }
        d.push(Effect::JobDone { key: key.clone(), at: d.now });
        let (orders, total) = d.view.open_orders_of_client(&c.id, STATUS_LIMIT)?;
        // Only to the client's own registered addresses.
        let to: Vec<String> = sched
            .recipients
            .iter()
            .map(|r| r.to_ascii_lowercase())
            .filter(|r| desk.directory.belongs_to(r, &c.id))
            .collect();
        if orders.is_empty() || to.is_empty() {
            continue;
        }
        let ctx = json!({
            "desk": desk_block(s),
            "client": {"id": c.id, "name": c.name},
            // The company is never greeted as a person: a neutral greeting.
            "sender": {"name": "", "address": to[0], "person": null},
            "mail": {"subject": format!("Estado de sus órdenes — {}", c.name), "topic": format!("Estado de sus órdenes — {}", c.name),
                     "date": local_fmt(&s.calendar, d.now), "excerpt": "", "message_id": null},
            "not_found": [],
            "tag": null,
            "orders": orders.iter().map(|o| order_context(&desk.rules.desk, &s.calendar, o)).collect::<Vec<_>>(),
            "more": total.saturating_sub(orders.len()),
            "now": local_fmt(&s.calendar, d.now),
        });
        let letter = Letter {
            template: "estado_programado",
            to,
            ctx: &ctx,
            threading: Threading::Notice { references: &[] },
            order: None,
            id: Some(super::reminders::job_mail_id(&key)),
        };
        d.send(letter);
    }
    Ok(())
}
