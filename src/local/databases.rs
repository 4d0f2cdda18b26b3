//! Database operations: the rules every API of the service shares.
//!
//! Validation against the catalog, duplicate names, idempotency keys, "busy" and "locked"
//! checks and the scheduling of lifecycle transitions live here, once. The native HTTP layer and
//! the vendor dialects only translate their wire format to these calls and back. Validation
//! errors name native field names; a dialect with other names maps them.
//!
//! Node flavor and count: a database gets the catalog's first flavor and its plan's node count
//! unless it asks otherwise, and its count must stay within its plan's limits. When a change of
//! plan does not say how many nodes, a count the new plan allows is kept and any other becomes
//! the new plan's default.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use serde::Serialize;

use super::allow_list::{self, CreateIpRestriction, SetChange};
use super::catalog::{CATALOG, Plan};
use super::engines::Engines;
use super::error::LocalError;
use super::idempotency::{Created, Idempotency};
use super::lifecycle::{self, Clock, FaultedKind, LifecycleFaults, Schedule, Wake};
use super::model::{Credential, Database, Status, StoredPassword, new_id, new_uuid, whole_seconds};
use super::passwords;
use super::store::{Modified, Store, StoreTx};
use super::validation::{validate_description, validate_name, validate_username};

/// A create request after wire decoding; `None` fields take the catalog defaults.
///
/// Serialized (in this field order) as the canonical text an idempotency key is bound to, so a
/// replay must carry the same fields with the same values; key order on the wire does not matter.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct CreateDatabase {
    /// Requested name.
    pub(crate) name: String,
    /// Requested engine, or the default.
    pub(crate) engine: Option<String>,
    /// Requested version, or the engine's default.
    pub(crate) version: Option<String>,
    /// Requested plan, or the default.
    pub(crate) plan: Option<String>,
    /// Requested region, or the default.
    pub(crate) region: Option<String>,
    /// Requested node flavor, or the catalog's first.
    pub(crate) flavor: Option<String>,
    /// Requested node count, or the plan's.
    pub(crate) node_count: Option<u32>,
    /// Free text.
    pub(crate) description: Option<String>,
}

/// Children a dialect creates together with the database, in the same transaction (an OVH
/// create body carries `ipRestrictions`, and OVH clusters come with an `admin` user).
#[derive(Debug, Clone, Default)]
pub(crate) struct NewChildren {
    /// Networks allowed from the start; they settle with the database.
    pub(crate) ip_restrictions: Vec<CreateIpRestriction>,
    /// Users the service itself provides, with generated passwords.
    pub(crate) built_in_users: Vec<BuiltInUser>,
}

/// A user the service creates with a database (not asked for by the client).
#[derive(Debug, Clone)]
pub(crate) struct BuiltInUser {
    /// Its username.
    pub(crate) username: String,
    /// Its grants; set by the service, so not limited to the roles a client may grant.
    pub(crate) roles: Vec<String>,
}

/// A change request after wire decoding; `None` fields are left alone.
#[derive(Debug, Clone, Default)]
pub(crate) struct UpdateDatabase {
    /// New plan.
    pub(crate) plan: Option<String>,
    /// New version (of the same engine).
    pub(crate) version: Option<String>,
    /// New description: `Some(None)` clears it.
    pub(crate) description: Option<Option<String>>,
    /// New node flavor.
    pub(crate) flavor: Option<String>,
    /// New node count.
    pub(crate) node_count: Option<u32>,
    /// The whole new set of IP restrictions (OVH's `ipRestrictions` in a PUT): missing ones
    /// are deleted, new ones created, like the per-restriction rule (the database is busy).
    pub(crate) ip_restrictions: Option<Vec<CreateIpRestriction>>,
}

/// Result of an update: the database and whether anything changed.
#[derive(Debug)]
pub(crate) struct Updated {
    /// The database after the request.
    pub(crate) database: Database,
    /// False when the request asked for the values the database already had.
    pub(crate) changed: bool,
}

/// The database operations, over the shared store.
#[derive(Debug, Clone)]
pub(crate) struct Databases {
    store: Store,
    clock: Clock,
    wake: Wake,
    provision_delay: Duration,
    /// How the next created objects settle (a test aid); shared by every kind's operations.
    lifecycle_faults: Arc<LifecycleFaults>,
    /// What holds each engine's databases.
    engines: Engines,
}

impl Databases {
    /// Operations on `store`; scheduled transitions are announced through `wake`.
    pub(crate) fn new(store: Store, clock: Clock, wake: Wake, provision_delay: Duration) -> Self {
        Self {
            store,
            clock,
            wake,
            provision_delay,
            lifecycle_faults: Arc::default(),
            engines: Engines::simulated(),
        }
    }

    /// The same operations, with `engines` behind the databases.
    pub(crate) fn with_engines(mut self, engines: Engines) -> Self {
        self.engines = engines;
        self
    }

    /// What holds each engine's databases.
    pub(crate) fn engines(&self) -> &Engines {
        &self.engines
    }

    /// The pending lifecycle faults, which every create consults.
    pub(crate) fn lifecycle_faults(&self) -> &Arc<LifecycleFaults> {
        &self.lifecycle_faults
    }

    /// The clock the operations use (the request log shares it).
    pub(crate) fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The shared store (the child rule modules run their transactions on it).
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// A blocking read over this store: see [`lifecycle::read_when_settled`].
    pub(crate) async fn read_when_settled<T, F, Fut>(
        &self,
        within: Duration,
        status_of: impl Fn(&T) -> Status,
        read: F,
    ) -> Result<T, LocalError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, LocalError>>,
    {
        lifecycle::read_when_settled(&self.store, within, status_of, read).await
    }

    /// Tells the lifecycle worker that a transition was scheduled.
    pub(crate) fn wake(&self) {
        self.wake.poke();
    }

    /// When a transition started `now` settles, in whole milliseconds (the stored precision).
    pub(crate) fn settles_at(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        chrono::Duration::from_std(self.provision_delay)
            .ok()
            .and_then(|delay| now.checked_add_signed(delay))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
            .trunc_subsecs(3)
    }

    /// Validates and creates a database (status `CREATING`), or replays an earlier create with
    /// the same idempotency key.
    pub(crate) async fn create(
        &self,
        request: CreateDatabase,
        idempotency: Option<Idempotency>,
    ) -> Result<Database, LocalError> {
        self.create_with(request, idempotency, NewChildren::default())
            .await
    }

    /// [`Databases::create`] with children created in the same transaction; they are
    /// `CREATING` and settle together with the database.
    pub(crate) async fn create_with(
        &self,
        request: CreateDatabase,
        idempotency: Option<Idempotency>,
        children: NewChildren,
    ) -> Result<Database, LocalError> {
        validate_name(&request.name)?;
        let engine_name = request.engine.as_deref().unwrap_or(CATALOG.defaults.engine);
        let engine = CATALOG.engine(engine_name).ok_or_else(|| {
            LocalError::invalid(
                "engine",
                format!(
                    "engine {engine_name:?} is not offered; allowed: {}",
                    CATALOG.engine_names()
                ),
            )
        })?;
        let version = request.version.as_deref().unwrap_or(engine.default_version);
        if !engine.offers_version(version) {
            return Err(LocalError::invalid(
                "version",
                format!(
                    "version {version:?} is not offered for {}; allowed: {}",
                    engine.name,
                    engine.version_names()
                ),
            ));
        }
        let plan_name = request.plan.as_deref().unwrap_or(CATALOG.defaults.plan);
        let plan = validate_plan(plan_name)?;
        let region = request.region.as_deref().unwrap_or(CATALOG.defaults.region);
        if CATALOG.region(region).is_none() {
            return Err(LocalError::invalid(
                "region",
                format!(
                    "region {region:?} is not offered; allowed: {}",
                    CATALOG.region_names()
                ),
            ));
        }
        let flavor = match request.flavor.as_deref() {
            Some(flavor) => validate_flavor(flavor)?,
            None => CATALOG.default_flavor().name,
        };
        let node_count = request.node_count.unwrap_or(plan.node_count);
        validate_node_count(plan, node_count)?;
        if let Some(description) = &request.description {
            validate_description(description)?;
        }
        let wanted_restrictions = allow_list::validate_set(children.ip_restrictions)?;
        for user in &children.built_in_users {
            validate_username(&user.username)?;
        }
        let now = self.clock.now();
        let binding = idempotency
            .map(|idempotency| idempotency.bind(&request, now))
            .transpose()?;
        let stamp = whole_seconds(now);
        let settles_at = self.settles_at(now);
        // A 48-bit random id practically never collides; retry a few times just in case.
        for _ in 0..4 {
            let database = Database {
                id: new_id("db"),
                uuid: new_uuid(),
                name: request.name.clone(),
                engine: engine.name.to_owned(),
                version: version.to_owned(),
                plan: plan.name.to_owned(),
                region: region.to_owned(),
                flavor: flavor.to_owned(),
                node_count,
                description: request.description.clone(),
                locked: false,
                status: Status::Creating,
                status_message: Some("provisioning".to_owned()),
                created_at: stamp,
                updated_at: stamp,
                transition_at: Some(settles_at),
                gone_at: None,
                fails_with: None,
                served_at: None,
            };
            let users: Vec<Credential> = children
                .built_in_users
                .iter()
                .map(|user| Credential {
                    database_id: database.id.clone(),
                    uuid: new_uuid(),
                    username: user.username.clone(),
                    roles: user.roles.clone(),
                    status: Status::Creating,
                    password: StoredPassword::Generated(passwords::generate()),
                    created_at: stamp,
                    updated_at: stamp,
                    transition_at: Some(settles_at),
                    fails_with: None,
                })
                .collect();
            let restrictions =
                allow_list::new_rows(&database.id, &wanted_restrictions, stamp, settles_at);
            let binding = binding.clone();
            let faults = Arc::clone(&self.lifecycle_faults);
            let outcome = self
                .store
                .transact(move |tx| {
                    let (mut database, mut users, mut restrictions) =
                        (database, users, restrictions);
                    if let Some(binding) = &binding
                        && let Some(earlier) =
                            binding.replayed(tx, "database", |tx, id| tx.database(id))?
                    {
                        return Ok(Some(Created::Replayed(earlier)));
                    }
                    if let Some(existing_id) = tx.live_database_id_named(&database.name)? {
                        return Err(LocalError::Duplicate(format!(
                            "a database named {:?} already exists ({existing_id})",
                            database.name
                        )));
                    }
                    if tx.database_id_taken(&database.id)? {
                        return Ok(None);
                    }
                    Schedule {
                        transition_at: database.transition_at,
                        fails_with: database.fails_with,
                    } = faults.schedule(FaultedKind::Database, &database.name, settles_at);
                    tx.insert_database(&database)?;
                    for user in &mut users {
                        Schedule {
                            transition_at: user.transition_at,
                            fails_with: user.fails_with,
                        } = faults.schedule(FaultedKind::Credential, &user.username, settles_at);
                        tx.insert_credential(user)?;
                    }
                    for restriction in &mut restrictions {
                        Schedule {
                            transition_at: restriction.transition_at,
                            fails_with: restriction.fails_with,
                        } = faults.schedule(
                            FaultedKind::IpRestriction,
                            &restriction.cidr,
                            settles_at,
                        );
                        tx.insert_ip_restriction(restriction)?;
                    }
                    if let Some(binding) = &binding {
                        binding.remember(tx, &database.id)?;
                    }
                    Ok(Some(Created::New(database)))
                })
                .await?;
            let Some(created) = outcome else {
                continue;
            };
            if let Created::New(database) = &created {
                self.wake.poke();
                tracing::info!(id = %database.id, name = %database.name, "database created");
            }
            return Ok(created.into_inner());
        }
        Err(LocalError::Internal(
            "could not allocate a database id".to_owned(),
        ))
    }

    /// The database, or 404.
    pub(crate) async fn get(&self, id: &str) -> Result<Database, LocalError> {
        self.store.database(id).await?.ok_or_else(|| not_found(id))
    }

    /// The database with this UUID (the id dialects such as OVH show), or 404.
    pub(crate) async fn get_by_uuid(&self, uuid: &str) -> Result<Database, LocalError> {
        self.store
            .database_by_uuid(uuid)
            .await?
            .ok_or_else(|| LocalError::NotFound(format!("database {uuid} not found")))
    }

    /// Databases that are not gone, sorted by name.
    pub(crate) async fn list(
        &self,
        name_prefix: Option<String>,
    ) -> Result<Vec<Database>, LocalError> {
        self.store.databases(name_prefix).await
    }

    /// Applies a change to a `READY` database (status `UPDATING`); a change to nothing leaves it
    /// alone. A new set of IP restrictions that only changes descriptions does not make it busy.
    pub(crate) async fn update(
        &self,
        id: &str,
        request: UpdateDatabase,
    ) -> Result<Updated, LocalError> {
        if let Some(plan) = &request.plan {
            validate_plan(plan)?;
        }
        if let Some(flavor) = &request.flavor {
            validate_flavor(flavor)?;
        }
        if let Some(Some(description)) = &request.description {
            validate_description(description)?;
        }
        let wanted_restrictions = request
            .ip_restrictions
            .clone()
            .map(allow_list::validate_set)
            .transpose()?;
        let now = self.clock.now();
        let settles_at = self.settles_at(now);
        let owned_id = id.to_owned();
        let faults = Arc::clone(&self.lifecycle_faults);
        let outcome = self
            .store
            .transact(move |tx| {
                let Some(current) = tx.database(&owned_id)? else {
                    return Ok(Modified::Missing);
                };
                if let Some(version) = &request.version {
                    let engine = CATALOG.engine(&current.engine).ok_or_else(|| {
                        LocalError::Corrupt(format!("unknown engine {:?}", current.engine))
                    })?;
                    // A version valid for another engine conflicts with this database.
                    if !engine.offers_version(version) {
                        return Err(LocalError::Conflict(format!(
                            "version {version:?} is not offered for {}; allowed: {}",
                            engine.name,
                            engine.version_names()
                        )));
                    }
                }
                let mut next = current.clone();
                if let Some(plan) = &request.plan {
                    next.plan = plan.clone();
                }
                let plan = validate_plan(&next.plan)?;
                match request.node_count {
                    Some(count) => next.node_count = count,
                    None if !plan.allows_node_count(next.node_count) => {
                        next.node_count = plan.node_count;
                    }
                    None => {}
                }
                // A count some plan allows, sent without a plan, conflicts with the database's
                // own plan; any other is invalid input.
                let fits_another_plan = CATALOG
                    .plans
                    .iter()
                    .any(|other| other.allows_node_count(next.node_count));
                validate_node_count(plan, next.node_count).map_err(|error| {
                    match (&request.plan, error) {
                        (None, LocalError::Invalid { message, .. }) if fits_another_plan => {
                            LocalError::Conflict(message)
                        }
                        (_, error) => error,
                    }
                })?;
                if current.status == Status::Deleting {
                    // Waiting never helps: a state conflict, not a busy one.
                    return Err(LocalError::Conflict(format!(
                        "database {} is being deleted; it cannot be changed",
                        current.id
                    )));
                }
                if current.locked {
                    return Err(locked(&current));
                }
                if current.status != Status::Ready {
                    return Err(not_ready(
                        &format!("database {}", current.id),
                        current.status,
                    ));
                }
                if let Some(version) = &request.version {
                    next.version = version.clone();
                }
                if let Some(description) = &request.description {
                    next.description = description.clone();
                }
                if let Some(flavor) = &request.flavor {
                    next.flavor = flavor.clone();
                }
                let restrictions = match &wanted_restrictions {
                    Some(wanted) => {
                        allow_list::replace_set(tx, &current.id, wanted, &faults, now, settles_at)?
                    }
                    None => SetChange::Nothing,
                };
                let fields_changed = next != current;
                if !fields_changed && restrictions != SetChange::Membership {
                    return Ok(if restrictions == SetChange::Nothing {
                        Modified::Unchanged(current)
                    } else {
                        Modified::Written(current)
                    });
                }
                next.status = Status::Updating;
                next.status_message = Some(if fields_changed {
                    "applying changes".to_owned()
                } else {
                    allow_list::APPLYING.to_owned()
                });
                next.transition_at = Some(settles_at);
                next.updated_at = whole_seconds(now);
                tx.update_database(&next)?;
                Ok(Modified::Written(next))
            })
            .await?;
        match outcome {
            Modified::Missing => Err(not_found(id)),
            Modified::Unchanged(database) => Ok(Updated {
                database,
                changed: false,
            }),
            Modified::Written(database) => {
                if database.status == Status::Updating {
                    self.wake.poke();
                    tracing::info!(id = %database.id, name = %database.name, "database updating");
                }
                Ok(Updated {
                    database,
                    changed: true,
                })
            }
        }
    }

    /// Runs a maintenance operation on a READY database: it goes `UPDATING` (saying what it is
    /// doing) and settles READY after the provisioning delay, like any change. Node 0 is
    /// invalid input, a node beyond the database's nodes a conflict (409 reason state), and a
    /// database that is not READY is busy.
    pub(crate) async fn operate(
        &self,
        id: &str,
        operation: Operation,
    ) -> Result<Database, LocalError> {
        let now = self.clock.now();
        let settles_at = self.settles_at(now);
        let outcome = self
            .store
            .modify_database(id, move |current| {
                if let Operation::Restart { node: Some(node) } = operation {
                    let problem = format!(
                        "there is no node {node}: database {} has nodes 1 to {}",
                        current.id, current.node_count
                    );
                    if node == 0 {
                        return Err(LocalError::invalid("node", problem));
                    }
                    // A node number valid for some database: whether this one has it depends on
                    // its node count, a state conflict.
                    if node > current.node_count {
                        return Err(LocalError::Conflict(problem));
                    }
                }
                if current.locked {
                    return Err(locked(current));
                }
                if current.status != Status::Ready {
                    return Err(not_ready(
                        &format!("database {}", current.id),
                        current.status,
                    ));
                }
                let mut next = current.clone();
                next.status = Status::Updating;
                next.status_message = Some(operation.describe());
                next.transition_at = Some(settles_at);
                next.updated_at = whole_seconds(now);
                Ok(Some(next))
            })
            .await?;
        match outcome {
            Modified::Missing => Err(not_found(id)),
            Modified::Unchanged(database) | Modified::Written(database) => {
                self.wake.poke();
                tracing::info!(id = %database.id, operation = %operation.describe(), "database maintenance");
                Ok(database)
            }
        }
    }

    /// Starts deleting the database (status `DELETING`), whatever it is doing, unless an
    /// administrator locked it; deleting a database that is already `DELETING` changes nothing.
    ///
    /// Its credentials, indexes and IP restrictions go `DELETING` with it, in the same
    /// transaction, and disappear when it is gone.
    pub(crate) async fn delete(&self, id: &str) -> Result<Database, LocalError> {
        let now = self.clock.now();
        let settles_at = self.settles_at(now);
        let owned_id = id.to_owned();
        let outcome = self
            .store
            .transact(move |tx| {
                let Some(current) = tx.database(&owned_id)? else {
                    return Ok(Modified::Missing);
                };
                if current.status == Status::Deleting {
                    return Ok(Modified::Unchanged(current));
                }
                if current.locked {
                    return Err(locked(&current));
                }
                let mut next = current;
                next.status = Status::Deleting;
                next.status_message = Some("deleting".to_owned());
                next.transition_at = Some(settles_at);
                next.updated_at = whole_seconds(now);
                tx.update_database(&next)?;
                tx.mark_children_deleting(&next.id, whole_seconds(now), settles_at)?;
                Ok(Modified::Written(next))
            })
            .await?;
        match outcome {
            Modified::Missing => Err(not_found(id)),
            Modified::Unchanged(database) => Ok(database),
            Modified::Written(database) => {
                self.wake.poke();
                tracing::info!(id = %database.id, name = %database.name, "database deleting");
                Ok(database)
            }
        }
    }

    /// Locks or unlocks the database (an administrator's switch): while locked, every change
    /// to it or its children is refused with [`LocalError::Locked`]; reads and transitions
    /// already under way go on. Setting the state it already has changes nothing.
    pub(crate) async fn set_locked(&self, id: &str, locked: bool) -> Result<Database, LocalError> {
        let now = self.clock.now();
        let outcome = self
            .store
            .modify_database(id, move |current| {
                if current.locked == locked {
                    return Ok(None);
                }
                let mut next = current.clone();
                next.locked = locked;
                next.updated_at = whole_seconds(now);
                Ok(Some(next))
            })
            .await?;
        match outcome {
            Modified::Missing => Err(not_found(id)),
            Modified::Unchanged(database) => Ok(database),
            Modified::Written(database) => {
                tracing::info!(id = %database.id, locked, "database lock changed");
                Ok(database)
            }
        }
    }
}

/// A maintenance operation on a running database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Operation {
    /// The primary steps down and a secondary takes over.
    Failover,
    /// One node (1-based), or every node in turn, restarts.
    Restart {
        /// The node, `None` for all.
        node: Option<u32>,
    },
}

impl Operation {
    /// The status message while it runs.
    fn describe(self) -> String {
        match self {
            Operation::Failover => "failing over: the primary steps down".to_owned(),
            Operation::Restart { node: Some(node) } => format!("restarting node {node}"),
            Operation::Restart { node: None } => "restarting every node in turn".to_owned(),
        }
    }
}

/// Where a real engine serves it, else `<scheme>://<name>.<region>.dbaas.local:<port>/<name>`;
/// never carries credentials.
pub(crate) fn endpoint(database: &Database) -> String {
    if let Some(served_at) = &database.served_at {
        return served_at.clone();
    }
    match CATALOG.engine(&database.engine) {
        Some(engine) => format!(
            "{}://{}.{}.dbaas.local:{}/{}",
            engine.scheme, database.name, database.region, engine.port, database.name
        ),
        None => format!(
            "{}://{}.{}.dbaas.local/{}",
            database.engine, database.name, database.region, database.name
        ),
    }
}

/// The database a child *change* (create, update, delete) applies to: 404 when it is unknown,
/// gone or `DELETING`, 409 locked when an administrator locked it, 409 busy unless it is
/// `READY`.
pub(crate) fn parent_for_change(tx: &StoreTx<'_>, id: &str) -> Result<Database, LocalError> {
    let database = parent_for_read(tx, id)?;
    match database.status {
        Status::Deleting => Err(LocalError::NotFound(format!(
            "database {id} is being deleted"
        ))),
        _ if database.locked => Err(locked(&database)),
        Status::Ready => Ok(database),
        _ => Err(not_ready(&format!("database {id}"), database.status)),
    }
}

/// The database a child *read* applies to, whatever its status: 404 when unknown or gone.
pub(crate) fn parent_for_read(tx: &StoreTx<'_>, id: &str) -> Result<Database, LocalError> {
    tx.database(id)?.ok_or_else(|| not_found(id))
}

fn not_found(id: &str) -> LocalError {
    LocalError::NotFound(format!("database {id} not found"))
}

/// The 409 for an object that is not `READY` (`what` names it: `database db-…`): busy while
/// its status is transitional, as the same request works once it settles; a state conflict
/// once it has failed, as it never will.
pub(crate) fn not_ready(what: &str, status: Status) -> LocalError {
    match status {
        Status::Error => LocalError::Conflict(format!(
            "{what} has failed (ERROR) and cannot be changed; delete it and create it again"
        )),
        _ => LocalError::Busy(format!(
            "{what} is busy ({}); retry when it is READY",
            status.as_str()
        )),
    }
}

/// The 409 answer for a database an administrator locked.
pub(crate) fn locked(database: &Database) -> LocalError {
    LocalError::Locked(format!(
        "database {} is locked by an administrator; no change is possible until it is unlocked",
        database.id
    ))
}

fn validate_plan(plan: &str) -> Result<&'static Plan, LocalError> {
    CATALOG.plan(plan).ok_or_else(|| {
        LocalError::invalid(
            "plan",
            format!(
                "plan {plan:?} is not offered; allowed: {}",
                CATALOG.plan_names()
            ),
        )
    })
}

fn validate_flavor(flavor: &str) -> Result<&'static str, LocalError> {
    match CATALOG.flavor(flavor) {
        Some(offered) => Ok(offered.name),
        None => Err(LocalError::invalid(
            "flavor",
            format!(
                "flavor {flavor:?} is not offered; allowed: {}",
                CATALOG.flavor_names()
            ),
        )),
    }
}

/// The count must be within the plan's limits (essential 1, business and enterprise 3 to 8).
fn validate_node_count(plan: &Plan, count: u32) -> Result<(), LocalError> {
    if plan.allows_node_count(count) {
        return Ok(());
    }
    let allowed = if plan.min_node_count == plan.max_node_count {
        format!("exactly {}", plan.min_node_count)
    } else {
        format!("{} to {}", plan.min_node_count, plan.max_node_count)
    };
    Err(LocalError::invalid(
        "node_count",
        format!(
            "node_count {count} is not allowed on plan {}: use {allowed}",
            plan.name
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn databases(delay: Duration) -> (tempfile::TempDir, Databases) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let ops = Databases::new(store, Clock::tokio(), Wake::default(), delay);
        (dir, ops)
    }

    fn create(name: &str) -> CreateDatabase {
        CreateDatabase {
            name: name.into(),
            ..CreateDatabase::default()
        }
    }

    fn field_of(error: LocalError) -> Option<String> {
        match error {
            LocalError::Invalid { field, .. } => field,
            other => panic!("expected invalid, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn create_applies_defaults() {
        let (_dir, ops) = databases(Duration::from_secs(5)).await;
        let db = ops.create(create("alpha"), None).await.unwrap();
        assert_eq!(
            (
                db.engine.as_str(),
                db.version.as_str(),
                db.plan.as_str(),
                db.region.as_str()
            ),
            ("mongodb", "8.0", "essential", "eu-west-1")
        );
        assert_eq!(db.status, Status::Creating);
        assert!(db.transition_at.is_some());
        let pg = ops
            .create(
                CreateDatabase {
                    engine: Some("postgresql".into()),
                    ..create("beta")
                },
                None,
            )
            .await
            .unwrap();
        assert_eq!(pg.version, "17");
    }

    #[tokio::test]
    async fn create_rejects_each_bad_field() {
        let (_dir, ops) = databases(Duration::ZERO).await;
        let cases = [
            (create("x"), "name"),
            (
                CreateDatabase {
                    engine: Some("oracle".into()),
                    ..create("alpha")
                },
                "engine",
            ),
            (
                CreateDatabase {
                    engine: Some("mysql".into()),
                    version: Some("8.0.1".into()),
                    ..create("alpha")
                },
                "version",
            ),
            (
                CreateDatabase {
                    version: Some("17".into()),
                    ..create("alpha")
                },
                "version",
            ),
            (
                CreateDatabase {
                    plan: Some("free".into()),
                    ..create("alpha")
                },
                "plan",
            ),
            (
                CreateDatabase {
                    region: Some("mars-1".into()),
                    ..create("alpha")
                },
                "region",
            ),
            (
                CreateDatabase {
                    description: Some("d".repeat(256)),
                    ..create("alpha")
                },
                "description",
            ),
        ];
        for (request, field) in cases {
            let error = ops.create(request, None).await.unwrap_err();
            assert_eq!(field_of(error).as_deref(), Some(field));
        }
        assert!(ops.list(None).await.unwrap().is_empty());
        let ok = CreateDatabase {
            description: Some("é".repeat(255)),
            ..create("alpha")
        };
        assert!(ops.create(ok, None).await.is_ok());
    }

    #[tokio::test]
    async fn create_idempotency_key_replays_same_request() {
        let (_dir, ops) = databases(Duration::from_secs(5)).await;
        let key = || {
            Some(Idempotency {
                scope: "test".into(),
                key: "key-1".into(),
            })
        };
        let first = ops.create(create("alpha"), key()).await.unwrap();
        let again = ops.create(create("alpha"), key()).await.unwrap();
        assert_eq!(first.id, again.id);
        let different = CreateDatabase {
            plan: Some("business".into()),
            ..create("alpha")
        };
        assert!(matches!(
            ops.create(different, key()).await.unwrap_err(),
            LocalError::Conflict(_)
        ));
        // Without a key the duplicate name is a conflict.
        let error = ops.create(create("alpha"), None).await.unwrap_err();
        assert!(
            matches!(&error, LocalError::Duplicate(m) if m.contains(&first.id)),
            "{error:?}"
        );
        let bad_key = Idempotency {
            scope: "test".into(),
            key: "with space".into(),
        };
        assert!(matches!(
            ops.create(create("beta"), Some(bad_key)).await.unwrap_err(),
            LocalError::Invalid { field: None, .. }
        ));
    }

    #[tokio::test]
    async fn update_requires_ready_and_detects_no_change() {
        let (_dir, ops) = databases(Duration::ZERO).await;
        let db = ops.create(create("alpha"), None).await.unwrap();
        let change = UpdateDatabase {
            plan: Some("business".into()),
            ..UpdateDatabase::default()
        };
        let error = ops.update(&db.id, change.clone()).await.unwrap_err();
        assert!(
            matches!(&error, LocalError::Busy(m) if m.contains("busy (CREATING)")),
            "{error:?}"
        );

        crate::local::lifecycle::settle_due(&ops.store, ops.clock.now())
            .await
            .unwrap();
        let updated = ops.update(&db.id, change.clone()).await.unwrap();
        assert!(updated.changed);
        assert_eq!(updated.database.status, Status::Updating);
        assert_eq!(updated.database.plan, "business");

        crate::local::lifecycle::settle_due(&ops.store, ops.clock.now())
            .await
            .unwrap();
        let same = ops.update(&db.id, change).await.unwrap();
        assert!(!same.changed);
        assert_eq!(same.database.status, Status::Ready);

        let bad_version = UpdateDatabase {
            version: Some("17".into()),
            ..UpdateDatabase::default()
        };
        // A version of another engine conflicts with this database (409 state).
        assert!(matches!(
            ops.update(&db.id, bad_version).await.unwrap_err(),
            LocalError::Conflict(message) if message.contains("not offered for mongodb")
        ));
        let cleared = ops
            .update(
                &db.id,
                UpdateDatabase {
                    description: Some(None),
                    ..UpdateDatabase::default()
                },
            )
            .await
            .unwrap();
        assert!(!cleared.changed, "description was already empty");
        assert!(matches!(
            ops.update("db-000000000000", UpdateDatabase::default())
                .await
                .unwrap_err(),
            LocalError::NotFound(_)
        ));
    }

    #[tokio::test]
    async fn delete_is_idempotent_and_allowed_while_busy() {
        let (_dir, ops) = databases(Duration::from_secs(60)).await;
        let db = ops.create(create("alpha"), None).await.unwrap();
        let deleting = ops.delete(&db.id).await.unwrap();
        assert_eq!(deleting.status, Status::Deleting);
        let again = ops.delete(&db.id).await.unwrap();
        assert_eq!(
            again.transition_at, deleting.transition_at,
            "timer not reset"
        );
        let due = deleting.transition_at.unwrap();
        crate::local::lifecycle::settle_due(&ops.store, due)
            .await
            .unwrap();
        assert!(matches!(
            ops.delete(&db.id).await.unwrap_err(),
            LocalError::NotFound(_)
        ));
        assert!(matches!(
            ops.get(&db.id).await.unwrap_err(),
            LocalError::NotFound(_)
        ));
        // The name is free again.
        assert!(ops.create(create("alpha"), None).await.is_ok());
    }

    #[tokio::test]
    async fn create_replay_of_deleted_database_conflicts() {
        let (_dir, ops) = databases(Duration::ZERO).await;
        let key = || {
            Some(Idempotency {
                scope: "test".into(),
                key: "k".into(),
            })
        };
        let db = ops.create(create("alpha"), key()).await.unwrap();
        ops.delete(&db.id).await.unwrap();
        crate::local::lifecycle::settle_due(&ops.store, ops.clock.now())
            .await
            .unwrap();
        let error = ops.create(create("alpha"), key()).await.unwrap_err();
        assert!(
            matches!(&error, LocalError::Conflict(m) if m.contains("deleted")),
            "{error:?}"
        );
    }

    async fn settle(ops: &Databases) {
        // Past every transition these tests schedule (at most 30 s ahead).
        let later = ops.clock.now() + chrono::Duration::hours(1);
        crate::local::lifecycle::settle_due(&ops.store, later)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn create_defaults_and_checks_flavor_and_node_count() {
        let (_dir, ops) = databases(Duration::ZERO).await;
        let db = ops.create(create("alpha"), None).await.unwrap();
        assert_eq!((db.flavor.as_str(), db.node_count), ("db1-4", 1));
        assert!(uuid::Uuid::parse_str(&db.uuid).is_ok());
        assert!(!db.locked);
        let business = ops
            .create(
                CreateDatabase {
                    plan: Some("business".into()),
                    flavor: Some("db1-15".into()),
                    ..create("beta")
                },
                None,
            )
            .await
            .unwrap();
        assert_eq!(
            (business.flavor.as_str(), business.node_count),
            ("db1-15", 3)
        );
        assert_eq!(
            ops.get_by_uuid(&business.uuid).await.unwrap().id,
            business.id
        );
        for (request, field) in [
            (
                CreateDatabase {
                    flavor: Some("b3-8".into()),
                    ..create("gamma")
                },
                "flavor",
            ),
            (
                CreateDatabase {
                    node_count: Some(3),
                    ..create("gamma")
                },
                "node_count",
            ),
            (
                CreateDatabase {
                    plan: Some("enterprise".into()),
                    node_count: Some(9),
                    ..create("gamma")
                },
                "node_count",
            ),
            (
                CreateDatabase {
                    plan: Some("business".into()),
                    node_count: Some(2),
                    ..create("gamma")
                },
                "node_count",
            ),
        ] {
            let error = ops.create(request, None).await.unwrap_err();
            assert_eq!(field_of(error).as_deref(), Some(field));
        }
        let eight = CreateDatabase {
            plan: Some("enterprise".into()),
            node_count: Some(8),
            ..create("gamma")
        };
        assert_eq!(ops.create(eight, None).await.unwrap().node_count, 8);
    }

    #[tokio::test]
    async fn update_changes_flavor_and_fits_node_count_to_a_new_plan() {
        let (_dir, ops) = databases(Duration::ZERO).await;
        let db = ops.create(create("alpha"), None).await.unwrap();
        settle(&ops).await;
        let to_business = UpdateDatabase {
            plan: Some("business".into()),
            flavor: Some("db1-7".into()),
            ..UpdateDatabase::default()
        };
        let updated = ops.update(&db.id, to_business).await.unwrap();
        assert_eq!(
            updated.database.node_count, 3,
            "1 does not fit business: its default"
        );
        assert_eq!(updated.database.flavor, "db1-7");
        settle(&ops).await;
        let grow = UpdateDatabase {
            node_count: Some(5),
            ..UpdateDatabase::default()
        };
        assert_eq!(
            ops.update(&db.id, grow).await.unwrap().database.node_count,
            5
        );
        settle(&ops).await;
        let to_enterprise = UpdateDatabase {
            plan: Some("enterprise".into()),
            ..UpdateDatabase::default()
        };
        let kept = ops.update(&db.id, to_enterprise).await.unwrap();
        assert_eq!(kept.database.node_count, 5, "5 fits enterprise: kept");
        settle(&ops).await;
        let too_many = UpdateDatabase {
            node_count: Some(9),
            ..UpdateDatabase::default()
        };
        assert_eq!(
            field_of(ops.update(&db.id, too_many).await.unwrap_err()).as_deref(),
            Some("node_count")
        );
        let bad_flavor = UpdateDatabase {
            flavor: Some("huge".into()),
            ..UpdateDatabase::default()
        };
        assert_eq!(
            field_of(ops.update(&db.id, bad_flavor).await.unwrap_err()).as_deref(),
            Some("flavor")
        );
    }

    #[tokio::test]
    async fn locked_database_refuses_changes_until_unlocked() {
        let (_dir, ops) = databases(Duration::ZERO).await;
        let db = ops.create(create("alpha"), None).await.unwrap();
        settle(&ops).await;
        let locked = ops.set_locked(&db.id, true).await.unwrap();
        assert!(locked.locked);
        assert_eq!(locked.status, Status::Ready);
        let change = UpdateDatabase {
            description: Some(Some("x".into())),
            ..UpdateDatabase::default()
        };
        assert!(matches!(
            ops.update(&db.id, change.clone()).await.unwrap_err(),
            LocalError::Locked(_)
        ));
        assert!(matches!(
            ops.delete(&db.id).await.unwrap_err(),
            LocalError::Locked(_)
        ));
        let child = ops
            .store
            .transact({
                let id = db.id.clone();
                move |tx| parent_for_change(tx, &id).map(|_| ())
            })
            .await
            .unwrap_err();
        assert!(matches!(child, LocalError::Locked(_)), "{child:?}");
        assert!(
            ops.set_locked(&db.id, true).await.unwrap().locked,
            "idempotent"
        );
        assert!(!ops.set_locked(&db.id, false).await.unwrap().locked);
        assert!(ops.update(&db.id, change).await.unwrap().changed);
        assert!(matches!(
            ops.set_locked("db-000000000000", true).await.unwrap_err(),
            LocalError::NotFound(_)
        ));
    }

    fn allow(cidr: &str, description: Option<&str>) -> CreateIpRestriction {
        CreateIpRestriction {
            cidr: cidr.into(),
            description: description.map(str::to_owned),
        }
    }

    #[tokio::test]
    async fn create_with_children_and_replace_ip_set() {
        let (_dir, ops) = databases(Duration::from_secs(30)).await;
        let children = NewChildren {
            ip_restrictions: vec![
                allow("10.0.0.1", Some("office")),
                allow("192.0.2.0/24", None),
            ],
            built_in_users: vec![BuiltInUser {
                username: "admin".into(),
                roles: vec!["root@admin".into()],
            }],
        };
        let db = ops
            .create_with(create("alpha"), None, children)
            .await
            .unwrap();
        let (users, restrictions) = ops
            .store
            .transact({
                let id = db.id.clone();
                move |tx| Ok((tx.credentials(&id)?, tx.ip_restrictions(&id)?))
            })
            .await
            .unwrap();
        assert_eq!(users.len(), 1);
        assert_eq!(users[0].username, "admin");
        assert_eq!(users[0].status, Status::Creating);
        assert_eq!(users[0].transition_at, db.transition_at);
        let cidrs: Vec<&str> = restrictions.iter().map(|r| r.cidr.as_str()).collect();
        assert_eq!(cidrs, ["10.0.0.1/32", "192.0.2.0/24"]);

        let twice = NewChildren {
            ip_restrictions: vec![allow("10.0.0.1", None), allow("10.0.0.1/32", None)],
            ..NewChildren::default()
        };
        assert!(matches!(
            ops.create_with(create("beta"), None, twice)
                .await
                .unwrap_err(),
            LocalError::Duplicate(_)
        ));
        assert!(
            ops.list(None)
                .await
                .unwrap()
                .iter()
                .all(|d| d.name != "beta")
        );

        settle(&ops).await;
        // Descriptions alone: the database stays READY.
        let relabel = UpdateDatabase {
            ip_restrictions: Some(vec![
                allow("10.0.0.1", Some("hq")),
                allow("192.0.2.0/24", None),
            ]),
            ..UpdateDatabase::default()
        };
        let updated = ops.update(&db.id, relabel).await.unwrap();
        assert!(updated.changed);
        assert_eq!(updated.database.status, Status::Ready);
        // Membership: one removed, one added, the database UPDATING.
        let swap = UpdateDatabase {
            ip_restrictions: Some(vec![
                allow("10.0.0.1", Some("hq")),
                allow("2001:db8::/32", None),
            ]),
            ..UpdateDatabase::default()
        };
        let updated = ops.update(&db.id, swap.clone()).await.unwrap();
        assert_eq!(updated.database.status, Status::Updating);
        assert_eq!(
            updated.database.status_message.as_deref(),
            Some(allow_list::APPLYING)
        );
        assert!(matches!(
            ops.update(&db.id, swap.clone()).await.unwrap_err(),
            LocalError::Busy(_)
        ));
        settle(&ops).await;
        let restrictions = ops
            .store
            .transact({
                let id = db.id.clone();
                move |tx| tx.ip_restrictions(&id)
            })
            .await
            .unwrap();
        let now: Vec<(&str, Option<&str>)> = restrictions
            .iter()
            .map(|r| (r.cidr.as_str(), r.description.as_deref()))
            .collect();
        assert_eq!(now, [("10.0.0.1/32", Some("hq")), ("2001:db8::/32", None)]);
        let same = ops.update(&db.id, swap).await.unwrap();
        assert!(!same.changed, "the same set changes nothing");
    }
}
