//! IP restriction (allow-list) operations: the rules every API of the service shares.
//!
//! OVH's busy rule: creating or deleting a restriction puts the whole database in `UPDATING`
//! for the provision delay, in the same transaction, so every other change of that database
//! (another restriction included) is a 409 busy until it is `READY` again. Changing only the
//! description does not make the database busy. CIDRs are canonical (see [`crate::cidr`]), and
//! lists are in network order: IPv4 before IPv6, then by address, then by prefix length.
//!
//! A whole set can also be given at once (OVH's `ipRestrictions` in a create or a PUT): the
//! networks it lacks are deleted and the new ones created, by the same rule, in the database's
//! own transaction ([`super::allow_list`]).

use std::sync::Arc;

use super::allow_list::{APPLYING, CreateIpRestriction, WantedRestriction, taken};
use super::databases::{Databases, not_ready, parent_for_change, parent_for_read};
use super::error::LocalError;
use super::idempotency::{Created, Idempotency};
use super::lifecycle::{FaultedKind, Schedule};
use super::model::{IpRestriction, Status, new_uuid, whole_seconds};
use super::validation::validate_description;
use crate::cidr::Cidr;

/// The IP restriction operations, over the shared store.
#[derive(Debug, Clone)]
pub(crate) struct IpRestrictions {
    databases: Databases,
}

impl IpRestrictions {
    /// Operations sharing the store, clock and lifecycle of `databases`.
    pub(crate) fn new(databases: Databases) -> Self {
        Self { databases }
    }

    /// Validates and creates a restriction (status `CREATING`), the database going `UPDATING`
    /// for the same delay; or replays an earlier create with the same idempotency key (the
    /// database busy or not).
    pub(crate) async fn create(
        &self,
        database_id: &str,
        request: CreateIpRestriction,
        idempotency: Option<Idempotency>,
    ) -> Result<IpRestriction, LocalError> {
        let cidr = Cidr::parse_network(&request.cidr)
            .map_err(|error| LocalError::invalid("cidr", error.to_string()))?
            .to_string();
        if let Some(description) = &request.description {
            validate_description(description)?;
        }
        let wanted = WantedRestriction {
            cidr,
            description: request.description,
        };
        let now = self.databases.clock().now();
        let binding = idempotency
            .map(|idempotency| idempotency.bind(&wanted, now))
            .transpose()?;
        let settles_at = self.databases.settles_at(now);
        let database_id = database_id.to_owned();
        let faults = Arc::clone(self.databases.lifecycle_faults());
        let created = self
            .databases
            .store()
            .transact(move |tx| {
                if let Some(binding) = &binding
                    && let Some(earlier) = binding.replayed(tx, "IP restriction", |tx, uuid| {
                        tx.ip_restriction_by_uuid(&database_id, uuid)
                    })?
                {
                    return Ok(Created::Replayed(earlier));
                }
                let mut database = parent_for_change(tx, &database_id)?;
                if let Some(existing) = tx.ip_restriction(&database_id, &wanted.cidr)? {
                    return Err(taken(&existing));
                }
                let Schedule {
                    transition_at,
                    fails_with,
                } = faults.schedule(FaultedKind::IpRestriction, &wanted.cidr, settles_at);
                let restriction = IpRestriction {
                    database_id,
                    uuid: new_uuid(),
                    cidr: wanted.cidr,
                    description: wanted.description,
                    status: Status::Creating,
                    created_at: whole_seconds(now),
                    transition_at,
                    fails_with,
                };
                tx.insert_ip_restriction(&restriction)?;
                database.status = Status::Updating;
                database.status_message = Some(APPLYING.to_owned());
                database.transition_at = Some(settles_at);
                database.updated_at = whole_seconds(now);
                tx.update_database(&database)?;
                if let Some(binding) = &binding {
                    binding.remember(tx, &restriction.uuid)?;
                }
                Ok(Created::New(restriction))
            })
            .await?;
        if let Created::New(restriction) = &created {
            self.databases.wake();
            tracing::info!(
                database_id = %restriction.database_id,
                cidr = %restriction.cidr,
                "IP restriction creating; database updating"
            );
        }
        Ok(created.into_inner())
    }

    /// One restriction by CIDR (any accepted spelling), whatever the database's status.
    pub(crate) async fn get(
        &self,
        database_id: &str,
        cidr: &str,
    ) -> Result<IpRestriction, LocalError> {
        let (database_id, cidr) = (database_id.to_owned(), cidr.to_owned());
        self.databases
            .store()
            .transact(move |tx| {
                parent_for_read(tx, &database_id)?;
                let canonical = lookup_key(&database_id, &cidr)?;
                tx.ip_restriction(&database_id, &canonical)?
                    .ok_or_else(|| not_found(&database_id, &cidr))
            })
            .await
    }

    /// The restrictions of a database, in network order.
    pub(crate) async fn list(&self, database_id: &str) -> Result<Vec<IpRestriction>, LocalError> {
        let database_id = database_id.to_owned();
        let mut restrictions = self
            .databases
            .store()
            .transact(move |tx| {
                parent_for_read(tx, &database_id)?;
                tx.ip_restrictions(&database_id)
            })
            .await?;
        restrictions.sort_by(|a, b| match (Cidr::parse(&a.cidr), Cidr::parse(&b.cidr)) {
            (Ok(a), Ok(b)) => a.network_order(&b),
            _ => a.cidr.cmp(&b.cidr),
        });
        Ok(restrictions)
    }

    /// Changes the description (`None` clears it); the database does not become busy.
    pub(crate) async fn update_description(
        &self,
        database_id: &str,
        cidr: &str,
        description: Option<String>,
    ) -> Result<IpRestriction, LocalError> {
        if let Some(description) = &description {
            validate_description(description)?;
        }
        let (database_id, cidr) = (database_id.to_owned(), cidr.to_owned());
        let restriction = self
            .databases
            .store()
            .transact(move |tx| {
                parent_for_change(tx, &database_id)?;
                let canonical = lookup_key(&database_id, &cidr)?;
                let mut restriction = tx
                    .ip_restriction(&database_id, &canonical)?
                    .ok_or_else(|| not_found(&database_id, &cidr))?;
                if restriction.status != Status::Ready {
                    let what = format!(
                        "IP restriction {} on database {}",
                        restriction.cidr, restriction.database_id
                    );
                    return Err(not_ready(&what, restriction.status));
                }
                if restriction.description != description {
                    restriction.description = description;
                    tx.update_ip_restriction(&restriction)?;
                }
                Ok(restriction)
            })
            .await?;
        tracing::info!(
            database_id = %restriction.database_id,
            cidr = %restriction.cidr,
            "IP restriction description updated"
        );
        Ok(restriction)
    }

    /// Starts deleting a restriction (status `DELETING`); the database goes `UPDATING` for the
    /// same delay.
    pub(crate) async fn delete(
        &self,
        database_id: &str,
        cidr: &str,
    ) -> Result<IpRestriction, LocalError> {
        let now = self.databases.clock().now();
        let settles_at = self.databases.settles_at(now);
        let (database_id, cidr) = (database_id.to_owned(), cidr.to_owned());
        let restriction = self
            .databases
            .store()
            .transact(move |tx| {
                let mut database = parent_for_change(tx, &database_id)?;
                let canonical = lookup_key(&database_id, &cidr)?;
                let mut restriction = tx
                    .ip_restriction(&database_id, &canonical)?
                    .ok_or_else(|| not_found(&database_id, &cidr))?;
                // Not reached while the database is busy, so the restriction is READY here
                // (it settles before its database); kept for data written otherwise.
                if restriction.status == Status::Deleting {
                    return Ok(restriction);
                }
                restriction.status = Status::Deleting;
                restriction.transition_at = Some(settles_at);
                tx.update_ip_restriction(&restriction)?;
                database.status = Status::Updating;
                database.status_message = Some(APPLYING.to_owned());
                database.transition_at = Some(settles_at);
                database.updated_at = whole_seconds(now);
                tx.update_database(&database)?;
                Ok(restriction)
            })
            .await?;
        self.databases.wake();
        tracing::info!(
            database_id = %restriction.database_id,
            cidr = %restriction.cidr,
            "IP restriction deleting; database updating"
        );
        Ok(restriction)
    }
}

/// The canonical key a path CIDR refers to; a spelling that is no network names nothing (404).
fn lookup_key(database_id: &str, cidr: &str) -> Result<String, LocalError> {
    Cidr::parse_network(cidr)
        .map(|network| network.to_string())
        .map_err(|_| not_found(database_id, cidr))
}

fn not_found(database_id: &str, cidr: &str) -> LocalError {
    LocalError::NotFound(format!(
        "IP restriction {cidr} not found on database {database_id}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::local::databases::CreateDatabase;
    use crate::local::lifecycle::{Clock, Wake, settle_due};
    use crate::local::store::Store;
    use std::time::Duration;

    async fn ready_database() -> (tempfile::TempDir, IpRestrictions, String) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let databases = Databases::new(
            store.clone(),
            Clock::tokio(),
            Wake::default(),
            Duration::from_secs(30),
        );
        let database = databases
            .create(
                CreateDatabase {
                    name: "alpha".into(),
                    ..CreateDatabase::default()
                },
                None,
            )
            .await
            .unwrap();
        settle_due(&store, database.transition_at.unwrap())
            .await
            .unwrap();
        (dir, IpRestrictions::new(databases), database.id)
    }

    fn allow(cidr: &str) -> CreateIpRestriction {
        CreateIpRestriction {
            cidr: cidr.into(),
            description: None,
        }
    }

    #[tokio::test]
    async fn create_makes_database_busy_until_settled() {
        let (_dir, restrictions, db) = ready_database().await;
        let created = restrictions
            .create(&db, allow("10.0.0.7"), None)
            .await
            .unwrap();
        assert_eq!(created.cidr, "10.0.0.7/32");
        assert_eq!(created.status, Status::Creating);
        let database = restrictions.databases.get(&db).await.unwrap();
        assert_eq!(database.status, Status::Updating);
        assert_eq!(database.transition_at, created.transition_at);
        assert!(matches!(
            restrictions.create(&db, allow("10.0.1.0/24"), None).await.unwrap_err(),
            LocalError::Busy(m) if m.contains("busy (UPDATING)")
        ));
        settle_due(
            restrictions.databases.store(),
            created.transition_at.unwrap(),
        )
        .await
        .unwrap();
        assert_eq!(
            restrictions.databases.get(&db).await.unwrap().status,
            Status::Ready
        );
        let read = restrictions.get(&db, "10.0.0.7/32").await.unwrap();
        assert_eq!(read.status, Status::Ready);
        // Any spelling of the same network finds it, and is a duplicate.
        assert_eq!(restrictions.get(&db, "10.0.0.7").await.unwrap(), read);
        assert!(matches!(
            restrictions.create(&db, allow("10.0.0.7/32"), None).await.unwrap_err(),
            LocalError::Duplicate(m) if m == format!("10.0.0.7/32 is already allowed on database {db}")
        ));
        assert!(matches!(
            restrictions.get(&db, "not-a-network").await.unwrap_err(),
            LocalError::NotFound(_)
        ));
    }

    #[tokio::test]
    async fn description_update_keeps_database_ready() {
        let (_dir, restrictions, db) = ready_database().await;
        let created = restrictions
            .create(
                &db,
                CreateIpRestriction {
                    cidr: "2001:DB8::/48".into(),
                    description: Some("office".into()),
                },
                None,
            )
            .await
            .unwrap();
        assert_eq!(created.cidr, "2001:db8::/48");
        settle_due(
            restrictions.databases.store(),
            created.transition_at.unwrap(),
        )
        .await
        .unwrap();
        let updated = restrictions
            .update_description(&db, "2001:db8::/48", None)
            .await
            .unwrap();
        assert_eq!(updated.description, None);
        assert_eq!(
            restrictions.databases.get(&db).await.unwrap().status,
            Status::Ready
        );
        let long = "d".repeat(256);
        assert!(matches!(
            restrictions
                .update_description(&db, "2001:db8::/48", Some(long))
                .await
                .unwrap_err(),
            LocalError::Invalid { field: Some(f), .. } if f == "description"
        ));
    }
}
