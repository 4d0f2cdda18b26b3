//! Credential (database user) operations: the rules every API of the service shares.
//!
//! Each change runs in one store transaction together with the parent rule (the database must
//! exist and be `READY`), so a concurrent change of the database cannot slip in between the
//! check and the write. Passwords are generated or hashed *before* the transaction (hashing is
//! deliberately slow and must not hold the store lock). Validation errors name native field
//! names; a dialect with other names maps them.

use secrecy::SecretString;
use serde::Serialize;

use super::databases::{Databases, not_ready, parent_for_change, parent_for_read};
use super::engines::Backing;
use super::error::LocalError;
use super::idempotency::{Created, Idempotency};
use super::lifecycle::{FaultedKind, Schedule};
use super::model::{Credential, Status, StoredPassword, new_uuid, whole_seconds};
use super::passwords;
use super::validation::{validate_roles, validate_username};

/// A create request after wire decoding.
#[derive(Debug, Clone)]
pub(crate) struct CreateCredential {
    /// The user's name, unique within the database.
    pub(crate) username: String,
    /// `<role>@<database>` grants.
    pub(crate) roles: Vec<String>,
    /// The client's own password, or `None` to have one generated.
    pub(crate) password: Option<SecretString>,
}

/// What an idempotency key of a credential create is bound to: the request, its chosen password
/// only as a fingerprint (salted with the key), so the store never keeps it recoverable.
#[derive(Serialize)]
struct KeyedRequest<'a> {
    /// As requested.
    username: &'a str,
    /// As requested, in the client's order.
    roles: &'a [String],
    /// The chosen password's fingerprint; `None` when the service generates one.
    password: Option<String>,
}

/// A credential together with the password to show once (create and reset replies only).
#[derive(Debug)]
pub(crate) struct WithPassword {
    /// The credential as stored.
    pub(crate) credential: Credential,
    /// The generated password; `None` when the client chose it.
    pub(crate) password: Option<SecretString>,
}

/// Result of a roles update: the credential and whether anything changed.
#[derive(Debug)]
pub(crate) struct RolesUpdated {
    /// The credential after the request.
    pub(crate) credential: Credential,
    /// False when the request asked for the roles it already had.
    pub(crate) changed: bool,
}

/// The credential operations, over the shared store.
#[derive(Debug, Clone)]
pub(crate) struct Credentials {
    databases: Databases,
}

impl Credentials {
    /// Operations sharing the store, clock and lifecycle of `databases`.
    pub(crate) fn new(databases: Databases) -> Self {
        Self { databases }
    }

    /// Validates and creates a credential (status `CREATING`), or replays an earlier create
    /// with the same idempotency key: the same credential, and the password it was generated
    /// with (still kept, as generated ones are).
    pub(crate) async fn create(
        &self,
        database_id: &str,
        request: CreateCredential,
        idempotency: Option<Idempotency>,
    ) -> Result<WithPassword, LocalError> {
        validate_username(&request.username)?;
        validate_roles(&request.roles)?;
        let now = self.databases.clock().now();
        let binding = match idempotency {
            None => None,
            Some(idempotency) => {
                let password = match &request.password {
                    Some(password) => {
                        passwords::validate_chosen(password)?;
                        let context = format!("{} {}", idempotency.scope, idempotency.key);
                        Some(
                            passwords::fingerprint_blocking(password.clone(), context)
                                .await?
                                .0,
                        )
                    }
                    None => None,
                };
                let keyed = KeyedRequest {
                    username: &request.username,
                    roles: &request.roles,
                    password,
                };
                Some(idempotency.bind(&keyed, now)?)
            }
        };
        let (stored, shown) = new_password(request.password).await?;
        let settles_at = self.databases.settles_at(now);
        let database_id = database_id.to_owned();
        let faults = std::sync::Arc::clone(self.databases.lifecycle_faults());
        let created = self
            .databases
            .store()
            .transact(move |tx| {
                if let Some(binding) = &binding
                    && let Some(earlier) = binding.replayed(tx, "credential", |tx, uuid| {
                        tx.credential_by_uuid(&database_id, uuid)
                    })?
                {
                    return Ok(Created::Replayed(earlier));
                }
                parent_for_change(tx, &database_id)?;
                if let Some(existing) = tx.credential(&database_id, &request.username)? {
                    return Err(taken(&existing));
                }
                let Schedule {
                    transition_at,
                    fails_with,
                } = faults.schedule(FaultedKind::Credential, &request.username, settles_at);
                let credential = Credential {
                    database_id,
                    uuid: new_uuid(),
                    username: request.username,
                    roles: request.roles,
                    status: Status::Creating,
                    password: stored,
                    created_at: whole_seconds(now),
                    updated_at: whole_seconds(now),
                    transition_at,
                    fails_with,
                };
                tx.insert_credential(&credential)?;
                if let Some(binding) = &binding {
                    binding.remember(tx, &credential.uuid)?;
                }
                Ok(Created::New(credential))
            })
            .await?;
        let credential = match created {
            Created::New(credential) => {
                self.databases.wake();
                tracing::info!(
                    database_id = %credential.database_id,
                    username = %credential.username,
                    password_chosen = credential.password.is_chosen(),
                    "credential created"
                );
                return Ok(WithPassword {
                    credential,
                    password: shown,
                });
            }
            Created::Replayed(credential) => credential,
        };
        let password = match &credential.password {
            StoredPassword::Generated(password) => Some(password.clone()),
            StoredPassword::Chosen(_) => None,
        };
        Ok(WithPassword {
            credential,
            password,
        })
    }

    /// One credential, whatever the database's status; 404 when absent or gone.
    pub(crate) async fn get(
        &self,
        database_id: &str,
        username: &str,
    ) -> Result<Credential, LocalError> {
        let (database_id, username) = (database_id.to_owned(), username.to_owned());
        self.databases
            .store()
            .transact(move |tx| {
                parent_for_read(tx, &database_id)?;
                tx.credential(&database_id, &username)?
                    .ok_or_else(|| not_found(&database_id, &username))
            })
            .await
    }

    /// One credential by its UUID (the user id of dialects such as OVH), whatever the
    /// database's status; 404 when absent or gone.
    pub(crate) async fn get_by_uuid(
        &self,
        database_id: &str,
        uuid: &str,
    ) -> Result<Credential, LocalError> {
        let (database_id, uuid) = (database_id.to_owned(), uuid.to_owned());
        self.databases
            .store()
            .transact(move |tx| {
                parent_for_read(tx, &database_id)?;
                tx.credential_by_uuid(&database_id, &uuid)?.ok_or_else(|| {
                    LocalError::NotFound(format!(
                        "credential {uuid} not found on database {database_id}"
                    ))
                })
            })
            .await
    }

    /// The credentials of a database, sorted by username.
    pub(crate) async fn list(&self, database_id: &str) -> Result<Vec<Credential>, LocalError> {
        let database_id = database_id.to_owned();
        self.databases
            .store()
            .transact(move |tx| {
                parent_for_read(tx, &database_id)?;
                tx.credentials(&database_id)
            })
            .await
    }

    /// Replaces the roles of a `READY` credential (status `UPDATING`); the same roles change
    /// nothing.
    pub(crate) async fn update_roles(
        &self,
        database_id: &str,
        username: &str,
        roles: Vec<String>,
    ) -> Result<RolesUpdated, LocalError> {
        validate_roles(&roles)?;
        let now = self.databases.clock().now();
        let settles_at = self.databases.settles_at(now);
        let (database_id, username) = (database_id.to_owned(), username.to_owned());
        let updated = self
            .databases
            .store()
            .transact(move |tx| {
                parent_for_change(tx, &database_id)?;
                let mut credential = tx
                    .credential(&database_id, &username)?
                    .ok_or_else(|| not_found(&database_id, &username))?;
                require_ready(&credential)?;
                if credential.roles == roles {
                    return Ok(RolesUpdated {
                        credential,
                        changed: false,
                    });
                }
                credential.roles = roles;
                credential.status = Status::Updating;
                credential.updated_at = whole_seconds(now);
                credential.transition_at = Some(settles_at);
                tx.update_credential(&credential)?;
                Ok(RolesUpdated {
                    credential,
                    changed: true,
                })
            })
            .await?;
        if updated.changed {
            self.databases.wake();
            tracing::info!(
                database_id = %updated.credential.database_id,
                username = %updated.credential.username,
                "credential roles updating"
            );
        }
        Ok(updated)
    }

    /// Replaces the password of a `READY` credential: with the client's (stored hashed) or a
    /// generated one (returned once). The status does not change, but for a real database's:
    /// it is `UPDATING` until its role has the new password.
    pub(crate) async fn reset_password(
        &self,
        database_id: &str,
        username: &str,
        password: Option<SecretString>,
    ) -> Result<WithPassword, LocalError> {
        let (stored, shown) = new_password(password).await?;
        let now = self.databases.clock().now();
        let (database_id, username) = (database_id.to_owned(), username.to_owned());
        let engines = self.databases.engines().clone();
        let credential = self
            .databases
            .store()
            .transact(move |tx| {
                let database = parent_for_change(tx, &database_id)?;
                let mut credential = tx
                    .credential(&database_id, &username)?
                    .ok_or_else(|| not_found(&database_id, &username))?;
                require_ready(&credential)?;
                credential.password = stored;
                credential.updated_at = whole_seconds(now);
                if engines.backing(&database.engine) == Backing::Real {
                    // Settled by the lifecycle worker once PostgreSQL has it.
                    credential.status = Status::Updating;
                    credential.transition_at = Some(now);
                }
                tx.update_credential(&credential)?;
                Ok(credential)
            })
            .await?;
        if credential.status == Status::Updating {
            self.databases.wake();
        }
        tracing::info!(
            database_id = %credential.database_id,
            username = %credential.username,
            password_chosen = credential.password.is_chosen(),
            "credential password reset"
        );
        Ok(WithPassword {
            credential,
            password: shown,
        })
    }

    /// The generated password of a credential; a chosen one is a 409 `state`.
    pub(crate) async fn reveal_password(
        &self,
        database_id: &str,
        username: &str,
    ) -> Result<SecretString, LocalError> {
        let credential = self.get(database_id, username).await?;
        match credential.password {
            StoredPassword::Generated(password) => Ok(password),
            StoredPassword::Chosen(_) => Err(LocalError::Conflict(format!(
                "the password of {} on database {} was chosen by the client and is not \
                 stored; it cannot be revealed",
                credential.username, credential.database_id
            ))),
        }
    }

    /// Whether `password` is the credential's current password (either kind).
    pub(crate) async fn verify_password(
        &self,
        database_id: &str,
        username: &str,
        password: SecretString,
    ) -> Result<bool, LocalError> {
        let credential = self.get(database_id, username).await?;
        match credential.password {
            StoredPassword::Generated(stored) => {
                Ok(passwords::verify_generated(&password, &stored))
            }
            StoredPassword::Chosen(hash) => passwords::verify_hash_blocking(password, hash).await,
        }
    }

    /// Starts deleting a credential (status `DELETING`), whatever its status; deleting one that
    /// is already `DELETING` changes nothing.
    pub(crate) async fn delete(
        &self,
        database_id: &str,
        username: &str,
    ) -> Result<Credential, LocalError> {
        let now = self.databases.clock().now();
        let settles_at = self.databases.settles_at(now);
        let (database_id, username) = (database_id.to_owned(), username.to_owned());
        let (credential, changed) = self
            .databases
            .store()
            .transact(move |tx| {
                parent_for_change(tx, &database_id)?;
                let mut credential = tx
                    .credential(&database_id, &username)?
                    .ok_or_else(|| not_found(&database_id, &username))?;
                if credential.status == Status::Deleting {
                    return Ok((credential, false));
                }
                credential.status = Status::Deleting;
                credential.updated_at = whole_seconds(now);
                credential.transition_at = Some(settles_at);
                tx.update_credential(&credential)?;
                Ok((credential, true))
            })
            .await?;
        if changed {
            self.databases.wake();
            tracing::info!(
                database_id = %credential.database_id,
                username = %credential.username,
                "credential deleting"
            );
        }
        Ok(credential)
    }
}

/// The password to store and the one to show: a generated one is both; a chosen one is
/// validated, stored hashed and never shown.
async fn new_password(
    chosen: Option<SecretString>,
) -> Result<(StoredPassword, Option<SecretString>), LocalError> {
    match chosen {
        Some(password) => {
            passwords::validate_chosen(&password)?;
            let hash = passwords::hash_blocking(password).await?;
            Ok((StoredPassword::Chosen(hash), None))
        }
        None => {
            let password = passwords::generate();
            Ok((StoredPassword::Generated(password.clone()), Some(password)))
        }
    }
}

fn not_found(database_id: &str, username: &str) -> LocalError {
    LocalError::NotFound(format!(
        "credential {username:?} not found on database {database_id}"
    ))
}

/// A username already in use: a duplicate, or busy while the old one is still being deleted.
fn taken(existing: &Credential) -> LocalError {
    if existing.status == Status::Deleting {
        LocalError::Busy(format!(
            "credential {:?} on database {} is still being deleted; retry when it is gone",
            existing.username, existing.database_id
        ))
    } else {
        LocalError::Duplicate(format!(
            "credential {:?} already exists on database {}",
            existing.username, existing.database_id
        ))
    }
}

fn require_ready(credential: &Credential) -> Result<(), LocalError> {
    if credential.status == Status::Ready {
        return Ok(());
    }
    let what = format!(
        "credential {:?} on database {}",
        credential.username, credential.database_id
    );
    Err(not_ready(&what, credential.status))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::local::databases::CreateDatabase;
    use crate::local::lifecycle::{Clock, Wake, settle_due};
    use crate::local::store::Store;
    use std::time::Duration;

    async fn ready_database(delay: Duration) -> (tempfile::TempDir, Credentials, String) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let databases = Databases::new(store.clone(), Clock::tokio(), Wake::default(), delay);
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
        (dir, Credentials::new(databases), database.id)
    }

    fn request(username: &str, password: Option<&str>) -> CreateCredential {
        CreateCredential {
            username: username.into(),
            roles: vec!["readWrite@app".into()],
            password: password.map(SecretString::from),
        }
    }

    #[tokio::test]
    async fn create_generates_or_hashes_passwords() {
        let (_dir, credentials, db) = ready_database(Duration::from_secs(60)).await;
        let generated = credentials
            .create(&db, request("gen", None), None)
            .await
            .unwrap();
        assert_eq!(generated.credential.status, Status::Creating);
        let shown = generated.password.expect("generated password is shown");
        assert!(matches!(
            &generated.credential.password,
            StoredPassword::Generated(stored) if passwords::verify_generated(&shown, stored)
        ));
        let chosen = credentials
            .create(&db, request("chosen", Some("my-own-password-1")), None)
            .await
            .unwrap();
        assert!(chosen.password.is_none());
        assert!(chosen.credential.password.is_chosen());
        assert!(
            credentials
                .verify_password(&db, "chosen", SecretString::from("my-own-password-1"))
                .await
                .unwrap()
        );
        assert!(
            !credentials
                .verify_password(&db, "chosen", SecretString::from("my-own-password-2"))
                .await
                .unwrap()
        );
        assert!(matches!(
            credentials.reveal_password(&db, "chosen").await.unwrap_err(),
            LocalError::Conflict(m) if m.contains("cannot be revealed")
        ));
        let revealed = credentials.reveal_password(&db, "gen").await.unwrap();
        assert!(passwords::verify_generated(&revealed, &shown));
    }

    #[tokio::test]
    async fn create_refuses_duplicates_and_busy_parents() {
        let (_dir, credentials, db) = ready_database(Duration::from_secs(60)).await;
        credentials
            .create(&db, request("app", None), None)
            .await
            .unwrap();
        assert!(matches!(
            credentials
                .create(&db, request("app", None), None)
                .await
                .unwrap_err(),
            LocalError::Duplicate(_)
        ));
        credentials.delete(&db, "app").await.unwrap();
        assert!(matches!(
            credentials.create(&db, request("app", None), None).await.unwrap_err(),
            LocalError::Busy(m) if m.contains("still being deleted")
        ));
        assert!(matches!(
            credentials
                .create("db-000000000000", request("x", None), None)
                .await
                .unwrap_err(),
            LocalError::NotFound(_)
        ));
        credentials.databases.delete(&db).await.unwrap();
        assert!(matches!(
            credentials.create(&db, request("other", None), None).await.unwrap_err(),
            LocalError::NotFound(m) if m.contains("being deleted")
        ));
        // Reads still work while the database is being deleted; its children go with it.
        let listed = credentials.list(&db).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].status, Status::Deleting);
    }

    #[tokio::test]
    async fn update_roles_requires_ready_credential() {
        let (_dir, credentials, db) = ready_database(Duration::from_secs(60)).await;
        let created = credentials
            .create(&db, request("app", None), None)
            .await
            .unwrap();
        let roles = vec!["read@app".to_owned()];
        assert!(matches!(
            credentials
                .update_roles(&db, "app", roles.clone())
                .await
                .unwrap_err(),
            LocalError::Busy(m) if m.contains("busy (CREATING)")
        ));
        settle_due(
            credentials.databases.store(),
            created.credential.transition_at.unwrap(),
        )
        .await
        .unwrap();
        let same = credentials
            .update_roles(&db, "app", vec!["readWrite@app".into()])
            .await
            .unwrap();
        assert!(!same.changed);
        assert_eq!(same.credential.status, Status::Ready);
        let updated = credentials
            .update_roles(&db, "app", roles.clone())
            .await
            .unwrap();
        assert!(updated.changed);
        assert_eq!(updated.credential.status, Status::Updating);
        assert_eq!(updated.credential.roles, roles);
        assert!(matches!(
            credentials
                .reset_password(&db, "app", None)
                .await
                .unwrap_err(),
            LocalError::Busy(_)
        ));
    }
}
