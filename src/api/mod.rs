//! The vendor API layer: one async trait ([`DbaasApi`]), the domain types it speaks, the one
//! error type every client returns, and one module per API.
//!
//! Nothing here knows about Terraform: the provider converts these domain types to and from
//! Terraform values. Every client goes through [`http::HttpClient`], so retries, rate limits and
//! log redaction behave the same for every vendor.

use std::time::Duration;

use async_trait::async_trait;
use secrecy::SecretString;

pub mod compose;
pub mod databaselabs;
pub mod globo;
pub mod goaddon;
pub mod http;
pub mod local;
pub mod ovh;

/// Every API the provider speaks, with what it offers: the source of the plan-time refusals'
/// wording and of the support matrix in `docs/`.
pub const APIS: &[(&str, &[Feature])] = &[
    ("local", local::FEATURES),
    ("ovh", ovh::FEATURES),
    ("compose", compose::FEATURES),
    ("globo", globo::FEATURES),
    ("databaselabs", databaselabs::FEATURES),
    ("goaddon", goaddon::FEATURES),
];

/// What a managed-database API can do. One implementation per vendor API.
///
/// The required surface is small on purpose (ripgrep-style); helpers that can be built from it
/// are default methods so every client gets them for free.
#[async_trait]
pub trait DbaasApi: Send + Sync + std::fmt::Debug {
    /// Short API name used in messages: "local", "ovh", …
    fn api_name(&self) -> &'static str;

    /// Everything this API offers, so the provider refuses the rest at plan time (naming the
    /// API) and the docs' support matrix is generated from the same list.
    fn features(&self) -> &'static [Feature];

    /// Whether this API offers `feature`.
    fn supports(&self, feature: Feature) -> bool {
        self.features().contains(&feature)
    }

    /// Poll guidance for waiters: some APIs ask for a minimum spacing between status polls
    /// (databaselabs asks for ≥ 30 s). Default: 1 s min, 10 s max.
    fn poll_guidance(&self) -> PollGuidance {
        PollGuidance::default()
    }

    /// True when the API answers on a loopback address (dbaas-local, tests): the provider then
    /// lets `poll_interval` go below the vendor's minimum spacing.
    fn on_loopback(&self) -> bool {
        false
    }

    /// The longest this API holds a read until the object's status settles (a blocking read,
    /// the `*_held` reads); zero when reads answer at once and waiters must poll.
    fn read_hold(&self) -> Duration {
        Duration::ZERO
    }

    /// Engines, versions, plans, regions and flavors the API offers, for plan-time validation.
    async fn capabilities(&self) -> Result<Capabilities, Error>;

    /// Which combinations of engine, version, plan, flavor and region can be ordered, where the
    /// API publishes that (OVH's `availability`).
    async fn availability(&self) -> Result<Vec<Availability>, Error> {
        Err(self.unsupported("the availability catalog"))
    }

    /// Starts creating a database. Returns at once (status usually pending); wait for readiness
    /// with the provider's waiter.
    async fn create_database(&self, spec: &DatabaseSpec) -> Result<Database, Error>;

    /// Reads one database by id. A database that is gone is [`Error::NotFound`].
    async fn get_database(&self, id: &str) -> Result<Database, Error>;

    /// [`Self::get_database`], held up to `hold` until its status settles where the API offers
    /// blocking reads ([`Self::read_hold`]); a zero `hold` is a plain read.
    async fn get_database_held(&self, id: &str, hold: Duration) -> Result<Database, Error> {
        let _ = hold;
        self.get_database(id).await
    }

    /// Everything a batched refresh can read in one go (every page of the list): the databases,
    /// and their children where the API lists them along. `None` where the API's list does not
    /// return whole objects, so each read asks for its object.
    async fn inventory(&self) -> Result<Option<Inventory>, Error> {
        if !self.supports(Feature::BatchedRefresh) {
            return Ok(None);
        }
        Ok(Some(Inventory {
            databases: self.list_databases(None).await?,
            children: None,
        }))
    }

    /// Lists databases, optionally only those whose name starts with `name_prefix`.
    async fn list_databases(&self, name_prefix: Option<&str>) -> Result<Vec<Database>, Error>;

    /// Changes only the fields set in `changes` (never re-sends unchanged settings).
    async fn update_database(&self, id: &str, changes: &DatabaseChanges)
    -> Result<Database, Error>;

    /// Starts deleting a database. A database that is already gone counts as success.
    async fn delete_database(&self, id: &str) -> Result<(), Error>;

    /// Finds a database by its exact name (data sources, and [`DbaasApi::find_created_database`]).
    async fn find_database_by_name(&self, name: &str) -> Result<Option<Database>, Error> {
        let candidates = self.list_databases(Some(name)).await?;
        Ok(candidates.into_iter().find(|db| db.name == name))
    }

    /// True when the API refuses a second database with the same name, so a create may be sent
    /// again once a lookup found none. False where names are free text or absent (OVH,
    /// databaselabs): there a create is never sent twice.
    fn database_names_unique(&self) -> bool {
        true
    }

    /// After a create whose answer was lost (or unclear), the database it may have made, when
    /// the API can tell: by default the database with the spec's name, adopted when its
    /// settings match the spec. `since` is when the create was first sent.
    async fn find_created_database(
        &self,
        spec: &DatabaseSpec,
        since: std::time::SystemTime,
    ) -> Result<Found<Database>, Error> {
        let _ = since;
        Ok(match self.find_database_by_name(&spec.name).await? {
            None => Found::Absent,
            Some(database) => match spec.difference(&database) {
                None => Found::Matching(database),
                Some(difference) => Found::Different(difference),
            },
        })
    }

    /// Checks a database name against the API's naming rules before anything is sent; the
    /// error says what is wrong ("contains '_'") and [`DbaasApi::database_name_rules`] what is
    /// allowed. Default: dbaas-local's rules.
    fn check_database_name(&self, name: &str) -> Result<(), String> {
        check_dns_label_name(name)
    }

    /// The naming rules [`DbaasApi::check_database_name`] applies, as a sentence for messages.
    fn database_name_rules(&self) -> &'static str {
        DNS_LABEL_NAME_RULES
    }

    /// Checks that the configured credentials are accepted, for APIs with a cheap call for it
    /// (databaselabs' ping). Default: nothing to check until the first real request.
    async fn check_credentials(&self) -> Result<(), Error> {
        Ok(())
    }

    /// [`DbaasApi::create_database`], with the superuser password for APIs that generate one
    /// at creation and show it only then (databaselabs).
    async fn create_database_revealing(
        &self,
        spec: &DatabaseSpec,
    ) -> Result<CreatedDatabase, Error> {
        Ok(CreatedDatabase {
            database: self.create_database(spec).await?,
            superuser_password: None,
        })
    }

    /// True when [`DbaasApi::delete_database`] only quarantines (globo): the database stays,
    /// with its passwords reset, until [`DbaasApi::purge_database`] or its operators remove it.
    fn delete_quarantines(&self) -> bool {
        false
    }

    /// Removes a database for good, also where a plain delete only quarantines it.
    async fn purge_database(&self, id: &str) -> Result<(), Error> {
        self.delete_database(id).await
    }

    /// The role (without `@<database>`) a user created without any gets on its database, as
    /// the API reads it back (Compose users always have one). Default: none.
    fn default_role(&self) -> Option<&'static str> {
        None
    }

    /// Checks a credential's roles (`<role>@<database>`) against what the API can grant, before
    /// any request; the error says what is allowed. Default: any role.
    fn check_roles(&self, database_id: &str, roles: &[String]) -> Result<(), String> {
        let _ = (database_id, roles);
        Ok(())
    }

    /// The projects databases can be grouped in (globo).
    async fn projects(&self) -> Result<Vec<Project>, Error> {
        Err(self.unsupported("projects"))
    }

    // Children of a database. Each has a default that says the API cannot do it, so a vendor
    // client implements only what its API offers and the provider reports the rest plainly.

    /// Starts creating a database user. The reply carries the generated password (the only
    /// time it is shown, apart from [`DbaasApi::reveal_credential_password`]); `None` when the
    /// client chose it.
    async fn create_credential(
        &self,
        database_id: &str,
        spec: &CredentialSpec,
    ) -> Result<Credential, Error> {
        let _ = (database_id, spec);
        Err(self.unsupported("creating credentials"))
    }

    /// Reads one credential (never with its password). A credential that is gone is
    /// [`Error::NotFound`].
    async fn get_credential(&self, database_id: &str, username: &str) -> Result<Credential, Error> {
        let _ = (database_id, username);
        Err(self.unsupported("reading credentials"))
    }

    /// [`Self::get_credential`], held as [`Self::get_database_held`] is.
    async fn get_credential_held(
        &self,
        database_id: &str,
        username: &str,
        hold: Duration,
    ) -> Result<Credential, Error> {
        let _ = hold;
        self.get_credential(database_id, username).await
    }

    /// Lists the credentials of a database (without passwords).
    async fn list_credentials(&self, database_id: &str) -> Result<Vec<Credential>, Error> {
        let _ = database_id;
        Err(self.unsupported("listing credentials"))
    }

    /// Replaces the roles of a credential (the whole list, so a retry is harmless).
    async fn update_credential_roles(
        &self,
        database_id: &str,
        username: &str,
        roles: &[String],
    ) -> Result<Credential, Error> {
        let _ = (database_id, username, roles);
        Err(self.unsupported("changing credential roles"))
    }

    /// Sets a new password: the one given (stored hashed, never revealable), or a generated one
    /// returned in the reply when `password` is `None`.
    async fn reset_credential_password(
        &self,
        database_id: &str,
        username: &str,
        password: Option<&SecretString>,
    ) -> Result<Credential, Error> {
        let _ = (database_id, username, password);
        Err(self.unsupported("resetting credential passwords"))
    }

    /// The current generated password. A password the client chose is not stored, so asking
    /// for it is an [`Error::Conflict`].
    async fn reveal_credential_password(
        &self,
        database_id: &str,
        username: &str,
    ) -> Result<SecretString, Error> {
        let _ = (database_id, username);
        Err(self.unsupported("revealing credential passwords"))
    }

    /// Starts deleting a credential. A credential that is already gone counts as success.
    async fn delete_credential(&self, database_id: &str, username: &str) -> Result<(), Error> {
        let _ = (database_id, username);
        Err(self.unsupported("deleting credentials"))
    }

    /// Starts building an index (creating the collection when it does not exist yet).
    async fn create_index(
        &self,
        database_id: &str,
        collection: &str,
        spec: &IndexSpec,
    ) -> Result<Index, Error> {
        let _ = (database_id, collection, spec);
        Err(self.unsupported("creating indexes"))
    }

    /// Reads one index by name. An index that is gone is [`Error::NotFound`].
    async fn get_index(
        &self,
        database_id: &str,
        collection: &str,
        name: &str,
    ) -> Result<Index, Error> {
        let _ = (database_id, collection, name);
        Err(self.unsupported("reading indexes"))
    }

    /// [`Self::get_index`], held as [`Self::get_database_held`] is.
    async fn get_index_held(
        &self,
        database_id: &str,
        collection: &str,
        name: &str,
        hold: Duration,
    ) -> Result<Index, Error> {
        let _ = hold;
        self.get_index(database_id, collection, name).await
    }

    /// Lists the indexes of a collection, the implicit `_id_` index included.
    async fn list_indexes(&self, database_id: &str, collection: &str) -> Result<Vec<Index>, Error> {
        let _ = (database_id, collection);
        Err(self.unsupported("listing indexes"))
    }

    /// Starts deleting an index. An index that is already gone counts as success.
    async fn delete_index(
        &self,
        database_id: &str,
        collection: &str,
        name: &str,
    ) -> Result<(), Error> {
        let _ = (database_id, collection, name);
        Err(self.unsupported("deleting indexes"))
    }

    /// Starts allowing a network. At OVH-style APIs this makes the whole database busy for a
    /// while, so the next change gets [`Error::Busy`] until it is ready again.
    async fn create_ip_restriction(
        &self,
        database_id: &str,
        spec: &IpRestrictionSpec,
    ) -> Result<IpRestriction, Error> {
        let _ = (database_id, spec);
        Err(self.unsupported("creating IP restrictions"))
    }

    /// Reads one IP restriction by its CIDR. One that is gone is [`Error::NotFound`].
    async fn get_ip_restriction(
        &self,
        database_id: &str,
        cidr: &str,
    ) -> Result<IpRestriction, Error> {
        let _ = (database_id, cidr);
        Err(self.unsupported("reading IP restrictions"))
    }

    /// [`Self::get_ip_restriction`], held as [`Self::get_database_held`] is.
    async fn get_ip_restriction_held(
        &self,
        database_id: &str,
        cidr: &str,
        hold: Duration,
    ) -> Result<IpRestriction, Error> {
        let _ = hold;
        self.get_ip_restriction(database_id, cidr).await
    }

    /// Lists the IP restrictions of a database.
    async fn list_ip_restrictions(&self, database_id: &str) -> Result<Vec<IpRestriction>, Error> {
        let _ = database_id;
        Err(self.unsupported("listing IP restrictions"))
    }

    /// Sets (`Some`) or clears (`None`) the description of an IP restriction.
    async fn update_ip_restriction(
        &self,
        database_id: &str,
        cidr: &str,
        description: Option<&str>,
    ) -> Result<IpRestriction, Error> {
        let _ = (database_id, cidr, description);
        Err(self.unsupported("changing IP restrictions"))
    }

    /// Starts removing an IP restriction. One that is already gone counts as success.
    async fn delete_ip_restriction(&self, database_id: &str, cidr: &str) -> Result<(), Error> {
        let _ = (database_id, cidr);
        Err(self.unsupported("deleting IP restrictions"))
    }

    /// Starts a failover of a READY database (its primary steps down); the database reports
    /// UPDATING until it is READY again. Not retried: a lost reply must not run it twice.
    async fn failover_database(&self, id: &str) -> Result<Database, Error> {
        let _ = id;
        Err(self.unsupported("failing over databases"))
    }

    /// The database as a wait after a failover or restart sees it. Where the API reports that
    /// maintenance apart from the database's own status (goaddon's replica set status), the
    /// status says whether it is over.
    async fn get_database_in_maintenance(
        &self,
        id: &str,
        hold: Duration,
    ) -> Result<Database, Error> {
        self.get_database_held(id, hold).await
    }

    /// Starts restarting one node (1-based) of a READY database, or every node in turn; the
    /// database reports UPDATING until it is READY again. Not retried, like a failover.
    async fn restart_database(&self, id: &str, node: Option<u32>) -> Result<Database, Error> {
        let _ = (id, node);
        Err(self.unsupported("restarting databases"))
    }

    /// The error every unimplemented operation returns, naming this API.
    fn unsupported(&self, what: &str) -> Error {
        Error::Unsupported {
            api: self.api_name(),
            what: what.to_owned(),
        }
    }
}

/// The database-name rules of dbaas-local (and OVH): a DNS label.
pub const DNS_LABEL_NAME_RULES: &str = "A name is 3 to 63 lowercase letters (a-z), digits and \
     hyphens, starts with a letter and does not end with a hyphen.";

/// Checks `name` against [`DNS_LABEL_NAME_RULES`].
pub fn check_dns_label_name(name: &str) -> Result<(), String> {
    let length = name.chars().count();
    if !(3..=63).contains(&length) {
        return Err(format!("has {length} characters"));
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err("does not start with a lowercase letter".into());
    }
    if name.ends_with('-') {
        return Err("ends with a hyphen".into());
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(format!("contains '{bad}'"));
    }
    Ok(())
}

/// What a lookup after an unclear create found.
#[derive(Debug)]
pub enum Found<T> {
    /// The object exists with the settings asked for: it is the one the create made.
    Matching(T),
    /// No such object exists.
    Absent,
    /// An object with the same key exists but differs from what was asked (named in words).
    Different(String),
    /// The API cannot say which object the create made (no unique name): what may exist, in
    /// words.
    Unknowable(String),
}

impl<T> Found<T> {
    /// The same finding about `f` of the object.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Found<U> {
        match self {
            Found::Matching(object) => Found::Matching(f(object)),
            Found::Absent => Found::Absent,
            Found::Different(difference) => Found::Different(difference),
            Found::Unknowable(what) => Found::Unknowable(what),
        }
    }
}

/// A database just created, with the superuser password when the API generated one and shows
/// it only in the create reply. Its Debug never shows the password.
#[derive(Clone, Debug)]
pub struct CreatedDatabase {
    /// The database as the create reply describes it (usually still pending).
    pub database: Database,
    /// The superuser password, where the API shows one at creation.
    pub superuser_password: Option<SecretString>,
}

/// A project databases belong to (globo).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Project {
    /// The API's id.
    pub id: String,
    /// The project name.
    pub name: String,
}

/// What one listing of an API holds, for a batched refresh.
#[derive(Clone, Debug, Default)]
pub struct Inventory {
    /// Every database the API lists.
    pub databases: Vec<Database>,
    /// The children of each listed database, by database id, where the API lists them along;
    /// `None` where it does not (their reads then ask for each object).
    pub children: Option<std::collections::HashMap<String, Children>>,
}

/// The children of one database.
#[derive(Clone, Debug, Default)]
pub struct Children {
    /// Its credentials, without passwords.
    pub credentials: Vec<Credential>,
    /// Its indexes, of every collection.
    pub indexes: Vec<Index>,
    /// Its IP restrictions.
    pub ip_restrictions: Vec<IpRestriction>,
}

/// How often a waiter may poll an API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PollGuidance {
    /// Polls never come closer together than this (vendor rules or politeness).
    pub min_interval: Duration,
    /// Backoff stops growing here, so a long wait still notices readiness reasonably soon.
    pub max_interval: Duration,
}

impl Default for PollGuidance {
    fn default() -> Self {
        Self {
            min_interval: Duration::from_secs(1),
            max_interval: Duration::from_secs(10),
        }
    }
}

/// What the user asks for when creating a database. `None` fields take the API's defaults.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DatabaseSpec {
    /// The database name, unique per account at most APIs; how an unclear create is settled.
    pub name: String,
    /// Engine ("mongodb", "postgresql", …); `None` takes the API default.
    pub engine: Option<String>,
    /// Engine version; `None` takes the engine's default version.
    pub version: Option<String>,
    /// Service plan (sizing/tier); `None` takes the API default.
    pub plan: Option<String>,
    /// Region to run in; `None` takes the API default.
    pub region: Option<String>,
    /// Node flavor (machine size); `None` takes the API default. OVH requires one.
    pub flavor: Option<String>,
    /// Number of nodes; `None` takes the plan's default.
    pub node_count: Option<u32>,
    /// Free text shown in the vendor console.
    pub description: Option<String>,
    /// Makes the create safe to retry: the same key returns the database the first call created.
    /// `None` lets a client that sends keys derive one from the spec, so a retry, a second run
    /// or another process sending the same spec gets the same key.
    pub idempotency_key: Option<String>,
}

impl DatabaseSpec {
    /// How `database` differs from this spec, in words; `None` when every setting the spec
    /// names (its `None` fields take defaults) is what the database has.
    pub fn difference(&self, database: &Database) -> Option<String> {
        let mut differences = Vec::new();
        let mut compare = |field: &str, asked: Option<&str>, has: Option<&str>| {
            if let Some(asked) = asked
                && has != Some(asked)
            {
                differences.push(format!(
                    "{field} is {:?}, not {asked:?}",
                    has.unwrap_or_default()
                ));
            }
        };
        compare("engine", self.engine.as_deref(), Some(&database.engine));
        compare("version", self.version.as_deref(), Some(&database.version));
        compare("plan", self.plan.as_deref(), Some(&database.plan));
        compare("region", self.region.as_deref(), Some(&database.region));
        compare("flavor", self.flavor.as_deref(), database.flavor.as_deref());
        compare(
            "description",
            self.description.as_deref(),
            database.description.as_deref(),
        );
        if let Some(count) = self.node_count
            && database.node_count.is_some_and(|has| has != count)
        {
            differences.push(format!(
                "node_count is {}, not {count}",
                database.node_count.unwrap_or_default()
            ));
        }
        (!differences.is_empty()).then(|| differences.join(", "))
    }
}

/// A partial update: only `Some` fields are sent, so untouched settings are never re-sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DatabaseChanges {
    /// New plan, for in-place scaling.
    pub plan: Option<String>,
    /// New engine version (upgrade).
    pub version: Option<String>,
    /// `Some(None)` clears the description, `Some(Some(text))` sets it, `None` leaves it alone.
    pub description: Option<Option<String>>,
    /// New node flavor (vertical scaling).
    pub flavor: Option<String>,
    /// New number of nodes (horizontal scaling).
    pub node_count: Option<u32>,
}

impl DatabaseChanges {
    /// True when nothing would be changed (a client may skip the call).
    pub fn is_empty(&self) -> bool {
        self.plan.is_none()
            && self.version.is_none()
            && self.description.is_none()
            && self.flavor.is_none()
            && self.node_count.is_none()
    }
}

/// A managed database as the API reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Database {
    /// The API's id; the Terraform resource id and the key of every later call.
    pub id: String,
    /// The user-chosen name.
    pub name: String,
    /// Engine actually running (defaults resolved).
    pub engine: String,
    /// Version actually running or being rolled out.
    pub version: String,
    /// Plan actually applied or being applied.
    pub plan: String,
    /// Region it runs in.
    pub region: String,
    /// Node flavor, when the API has the notion.
    pub flavor: Option<String>,
    /// Number of nodes, when the API reports it.
    pub node_count: Option<u32>,
    /// Free text, `None` when unset.
    pub description: Option<String>,
    /// Lifecycle state, mapped for waiters, plus the raw vendor value for messages.
    pub status: Status,
    /// Connection endpoint without credentials, when the API reports one.
    pub endpoint: Option<String>,
    /// Creation time as the API reports it (RFC 3339 for dbaas-local).
    pub created_at: String,
}

/// The state of an object: the phase waiters act on, and the vendor's own words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    /// What a waiter should make of the raw status.
    pub phase: Phase,
    /// The vendor's status string, for messages and logs ("CREATING", "building", …).
    pub raw: String,
    /// A human explanation from the API (e.g. why it is in ERROR), when given.
    pub message: Option<String>,
}

/// The lifecycle phases every vendor status maps onto.
///
/// An unknown raw status maps to [`Phase::Pending`], never to [`Phase::Failed`]: failing on an
/// unlisted transitional state is a classic waiter bug (ovh #1332).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Being created, updated, or in a state we do not know: keep waiting.
    Pending,
    /// Usable and idle.
    Ready,
    /// Being deleted.
    Deleting,
    /// The API says the operation failed; waiting longer will not help.
    Failed,
}

/// What the API offers, for validation before anything is created.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// Engines with their versions.
    pub engines: Vec<EngineInfo>,
    /// Service plans.
    pub plans: Vec<PlanInfo>,
    /// Regions.
    pub regions: Vec<RegionInfo>,
    /// Node flavors (machine sizes).
    pub flavors: Vec<FlavorInfo>,
    /// What an omitted engine/plan/region becomes, so plans can show the resolved value.
    pub defaults: Defaults,
}

impl Capabilities {
    /// The engine named `name`, if offered.
    pub fn engine(&self, name: &str) -> Option<&EngineInfo> {
        self.engines.iter().find(|engine| engine.name == name)
    }
}

/// One engine and its versions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EngineInfo {
    /// Engine name as the API spells it.
    pub name: String,
    /// Versions that can be created or upgraded to.
    pub versions: Vec<String>,
    /// Version used when the user gives none.
    pub default_version: String,
}

/// One service plan.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlanInfo {
    /// Plan name as the API spells it.
    pub name: String,
    /// Human description, for data sources and error messages.
    pub description: String,
    /// Nodes in a cluster on this plan.
    pub node_count: u32,
}

/// One region.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RegionInfo {
    /// Region name as the API spells it.
    pub name: String,
    /// Human description (city, provider).
    pub description: String,
}

/// One node flavor.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlavorInfo {
    /// Flavor name as the API spells it.
    pub name: String,
    /// Virtual CPU cores.
    pub cores: u32,
    /// Memory in GB.
    pub memory_gb: u32,
    /// Storage in GB.
    pub storage_gb: u32,
}

/// The values the API applies when a create leaves a field out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Defaults {
    /// Default engine.
    pub engine: String,
    /// Default plan.
    pub plan: String,
    /// Default region.
    pub region: String,
}

/// A database user to create. `password: None` asks the API to generate one.
#[derive(Clone, Debug, Default)]
pub struct CredentialSpec {
    /// The user name, unique per database; the key of every later call.
    pub username: String,
    /// Roles as `<role>@<database>` (e.g. `readWrite@orders`).
    pub roles: Vec<String>,
    /// A password the client chose ("write-only": the API keeps only a hash), or `None` to let
    /// the API generate one that it can reveal later.
    pub password: Option<SecretString>,
}

/// A database user as the API reports it. Its Debug never shows the password.
#[derive(Clone, Debug)]
pub struct Credential {
    /// The database the user belongs to.
    pub database_id: String,
    /// The user name.
    pub username: String,
    /// Roles as `<role>@<database>`.
    pub roles: Vec<String>,
    /// Lifecycle state, mapped for waiters.
    pub status: Status,
    /// The password, only in the replies of create and reset, and only when the API generated
    /// it; `None` everywhere else.
    pub password: Option<SecretString>,
    /// True when the client chose the password, so it cannot be revealed.
    pub password_chosen: bool,
    /// Creation time as the API reports it.
    pub created_at: String,
}

/// An index to build.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IndexSpec {
    /// The index name; `None` lets the API derive it from the keys
    /// (see [`default_index_name`]).
    pub name: Option<String>,
    /// The indexed fields, in order (the order matters to the index).
    pub keys: Vec<IndexKey>,
    /// Whether the index refuses duplicate values.
    pub unique: bool,
    /// Whether documents without the fields are left out of the index.
    pub sparse: bool,
}

/// One indexed field.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IndexKey {
    /// The field name (dotted for nested fields).
    pub field: String,
    /// The sort order of the field in the index.
    pub direction: IndexDirection,
}

/// The sort order of an indexed field; `1` and `-1` on the wire (MongoDB style).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IndexDirection {
    /// `1`.
    Ascending,
    /// `-1`.
    Descending,
}

impl IndexDirection {
    /// The wire number: 1 or -1.
    pub fn as_number(self) -> i8 {
        match self {
            IndexDirection::Ascending => 1,
            IndexDirection::Descending => -1,
        }
    }

    /// The direction for a wire number; `None` for anything but 1 and -1.
    pub fn from_number(number: i64) -> Option<Self> {
        match number {
            1 => Some(IndexDirection::Ascending),
            -1 => Some(IndexDirection::Descending),
            _ => None,
        }
    }
}

/// The name an API gives an index created without one: fields and directions joined by `_`,
/// MongoDB style (`a_1_b_-1`). Lets a plan show the name before the API is asked.
pub fn default_index_name(keys: &[IndexKey]) -> String {
    keys.iter()
        .map(|key| format!("{}_{}", key.field, key.direction.as_number()))
        .collect::<Vec<_>>()
        .join("_")
}

/// An index as the API reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Index {
    /// The database the collection belongs to.
    pub database_id: String,
    /// The collection the index is on.
    pub collection: String,
    /// The index name (given, or derived from the keys).
    pub name: String,
    /// The indexed fields, in order.
    pub keys: Vec<IndexKey>,
    /// Whether the index refuses duplicate values.
    pub unique: bool,
    /// Whether documents without the fields are left out.
    pub sparse: bool,
    /// Lifecycle state, mapped for waiters (BUILDING is pending).
    pub status: Status,
    /// Creation time as the API reports it (empty when the API gives none, e.g. for `_id_`).
    pub created_at: String,
}

/// A network to allow.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IpRestrictionSpec {
    /// An IPv4 or IPv6 network (`10.0.0.0/24`); a bare address means a single host.
    pub cidr: String,
    /// Free text saying why it is allowed.
    pub description: Option<String>,
}

/// An allowed network as the API reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpRestriction {
    /// The database it applies to.
    pub database_id: String,
    /// The network in the API's canonical form (`/32` added, IPv6 compressed); the key of
    /// every later call.
    pub cidr: String,
    /// Free text, `None` when unset.
    pub description: Option<String>,
    /// Lifecycle state, mapped for waiters.
    pub status: Status,
    /// Creation time as the API reports it.
    pub created_at: String,
}

/// One thing a resource type (and, where it matters, one of its attributes) asks of an API.
/// Each client lists the features its API offers ([`DbaasApi::features`]); the provider refuses
/// the others at plan time, naming the API, and `docs/` shows the same list as a matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Feature {
    /// `dbaas_database` itself.
    Database,
    /// Choosing the database name (APIs without it name databases themselves).
    DatabaseName,
    /// Choosing the engine.
    DatabaseEngine,
    /// Choosing and upgrading the version.
    DatabaseVersion,
    /// Choosing the plan.
    DatabasePlan,
    /// Changing the plan of an existing database; without it a plan change replaces it.
    DatabasePlanChange,
    /// Choosing the region.
    DatabaseRegion,
    /// Choosing and changing the node flavor.
    DatabaseFlavor,
    /// Choosing and changing the node count.
    DatabaseNodeCount,
    /// A free-text description.
    DatabaseDescription,
    /// A superuser password the API generates at creation (`superuser_password`).
    DatabaseSuperuserPassword,
    /// `dbaas_credential` itself, with a password the API generates.
    Credential,
    /// Roles on a credential.
    CredentialRoles,
    /// Rotating a generated password (`password_reset`).
    CredentialPasswordReset,
    /// A password the user chooses (`password_wo`).
    CredentialChosenPassword,
    /// Reading a password back later (the `dbaas_credential` ephemeral resource).
    CredentialReadPassword,
    /// `dbaas_collection_index`.
    CollectionIndex,
    /// `dbaas_ip_restriction`.
    IpRestriction,
    /// A description on an IP restriction.
    IpRestrictionDescription,
    /// The `dbaas_capabilities` and `dbaas_plans` data sources.
    Capabilities,
    /// The `dbaas_availability` data source.
    Availability,
    /// Listing databases (`dbaas_databases`, `dbaas_database` by name).
    ListDatabases,
    /// The `dbaas_projects` data source (globo's projects).
    Projects,
    /// A plan's refresh reads the databases from one list call (which returns each database
    /// whole, exactly as a read of one does), not one request per database.
    BatchedRefresh,
    /// The list of databases also shows their children, so their refresh costs nothing more.
    BatchedChildRefresh,
    /// Waits use blocking reads that answer when the status changes, instead of polling.
    BlockingRead,
    /// The `dbaas_failover` action: the primary steps down.
    Failover,
    /// The `dbaas_restart` action: a node, or every node, restarts.
    Restart,
}

impl Feature {
    /// Every feature, in matrix order.
    pub const ALL: &'static [Feature] = &[
        Feature::Database,
        Feature::DatabaseName,
        Feature::DatabaseEngine,
        Feature::DatabaseVersion,
        Feature::DatabasePlan,
        Feature::DatabasePlanChange,
        Feature::DatabaseRegion,
        Feature::DatabaseFlavor,
        Feature::DatabaseNodeCount,
        Feature::DatabaseDescription,
        Feature::DatabaseSuperuserPassword,
        Feature::Credential,
        Feature::CredentialRoles,
        Feature::CredentialPasswordReset,
        Feature::CredentialChosenPassword,
        Feature::CredentialReadPassword,
        Feature::CollectionIndex,
        Feature::IpRestriction,
        Feature::IpRestrictionDescription,
        Feature::Capabilities,
        Feature::Availability,
        Feature::ListDatabases,
        Feature::Projects,
        Feature::BatchedRefresh,
        Feature::BatchedChildRefresh,
        Feature::BlockingRead,
        Feature::Failover,
        Feature::Restart,
    ];

    /// The Terraform type the feature belongs to, and the attribute when it is about one.
    pub fn location(self) -> (&'static str, Option<&'static str>) {
        match self {
            Feature::Database => ("dbaas_database", None),
            Feature::DatabaseName => ("dbaas_database", Some("name")),
            Feature::DatabaseEngine => ("dbaas_database", Some("engine")),
            Feature::DatabaseVersion => ("dbaas_database", Some("version")),
            Feature::DatabasePlan | Feature::DatabasePlanChange => ("dbaas_database", Some("plan")),
            Feature::DatabaseRegion => ("dbaas_database", Some("region")),
            Feature::DatabaseFlavor => ("dbaas_database", Some("flavor")),
            Feature::DatabaseNodeCount => ("dbaas_database", Some("node_count")),
            Feature::DatabaseDescription => ("dbaas_database", Some("description")),
            Feature::DatabaseSuperuserPassword => ("dbaas_database", Some("superuser_password")),
            Feature::Credential => ("dbaas_credential", None),
            Feature::CredentialRoles => ("dbaas_credential", Some("roles")),
            Feature::CredentialPasswordReset => ("dbaas_credential", Some("password_reset")),
            Feature::CredentialChosenPassword => ("dbaas_credential", Some("password_wo")),
            Feature::CredentialReadPassword => ("ephemeral dbaas_credential", None),
            Feature::CollectionIndex => ("dbaas_collection_index", None),
            Feature::IpRestriction => ("dbaas_ip_restriction", None),
            Feature::IpRestrictionDescription => ("dbaas_ip_restriction", Some("description")),
            Feature::Capabilities => ("data dbaas_capabilities, dbaas_plans", None),
            Feature::Availability => ("data dbaas_availability", None),
            Feature::ListDatabases => ("data dbaas_databases, dbaas_database by name", None),
            Feature::Projects => ("data dbaas_projects", None),
            Feature::BatchedRefresh => ("dbaas_database", None),
            Feature::BatchedChildRefresh => (
                "dbaas_credential, dbaas_collection_index, dbaas_ip_restriction",
                None,
            ),
            Feature::BlockingRead => ("every resource type", None),
            Feature::Failover => ("action dbaas_failover", None),
            Feature::Restart => ("action dbaas_restart", None),
        }
    }

    /// The support matrix's attribute column: the attribute, with what the row is about when
    /// two rows share an attribute.
    pub fn matrix_label(self) -> String {
        match (self, self.location().1) {
            (Feature::DatabasePlanChange, _) => {
                "`plan` changed in place (else a change replaces the database)".to_owned()
            }
            (Feature::BatchedRefresh | Feature::BatchedChildRefresh, _) => {
                "refresh batched: one list call per plan (else one read each)".to_owned()
            }
            (Feature::BlockingRead, _) => {
                "waits answered when the status changes (else polled)".to_owned()
            }
            (_, Some(attribute)) => format!("`{attribute}`"),
            (_, None) => "(the type itself)".to_owned(),
        }
    }
}

/// One orderable combination, from APIs that publish availability (OVH).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Availability {
    /// Engine name.
    pub engine: String,
    /// Engine version.
    pub version: String,
    /// Plan name.
    pub plan: String,
    /// Node flavor.
    pub flavor: String,
    /// Region.
    pub region: String,
    /// Fewest nodes this combination allows.
    pub min_nodes: u32,
    /// Most nodes this combination allows.
    pub max_nodes: u32,
    /// Lifecycle status as the API says it (STABLE, BETA, DEPRECATED, …).
    pub status: String,
    /// Whether the API marks it as the default choice.
    pub default: bool,
}

/// Every failure a client can report. Each variant carries the API's own message, and its
/// Display is a sentence that ends with it. No variant ever holds a secret.
#[derive(thiserror::Error, Debug)]
pub enum Error {
    /// The object does not exist (or is gone).
    #[error("the object was not found: {message}")]
    NotFound {
        /// The API's message.
        message: String,
    },
    /// The object already exists, or another state conflict that waiting will not resolve
    /// (e.g. a password the client chose cannot be revealed).
    #[error("the request conflicts with the current state: {message}")]
    Conflict {
        /// The API's message.
        message: String,
    },
    /// The object or its parent is in a transitional status (creating, updating, …): the same
    /// request will succeed once it is ready. Not retried by the HTTP layer (it can take
    /// minutes); resources wait on it within their timeout.
    #[error("the object is busy{}: {message}", retry_after_hint(*.retry_after))]
    Busy {
        /// The API's message (it usually names the status that blocks the change).
        message: String,
        /// How long the server suggested waiting (`Retry-After`), when it said.
        retry_after: Option<Duration>,
    },
    /// Credentials missing or wrong.
    #[error("the API rejected the credentials: {message}")]
    Unauthorized {
        /// The API's message.
        message: String,
    },
    /// Credentials valid but not allowed to do this.
    #[error("the credentials are not allowed to do this: {message}")]
    Forbidden {
        /// The API's message.
        message: String,
    },
    /// Too many requests; `retry_after` is the server's requested pause when it gave one.
    #[error("the API rate limit was exceeded{}: {message}", retry_after_hint(*.retry_after))]
    RateLimited {
        /// How long the server asked us to wait (`Retry-After`).
        retry_after: Option<Duration>,
        /// The API's message.
        message: String,
    },
    /// A value was refused; `field` names it when the API says which.
    #[error("the API refused {}: {message}", field_hint(.field.as_deref()))]
    Invalid {
        /// The offending field in the API's naming, when known.
        field: Option<String>,
        /// The API's message.
        message: String,
    },
    /// Billing problem (e.g. card declined at databaselabs).
    #[error("the API requires payment: {message}")]
    PaymentRequired {
        /// The API's message.
        message: String,
    },
    /// The service is temporarily unavailable (503, 502, 504).
    #[error("the API is temporarily unavailable: {message}")]
    Unavailable {
        /// The API's message.
        message: String,
    },
    /// The API has no way to do this.
    #[error("the {api} API does not support {what}")]
    Unsupported {
        /// Which API.
        api: &'static str,
        /// What was asked for.
        what: String,
    },
    /// No connection could be made, so nothing was sent: repeating any request is safe.
    #[error("could not connect to the API: {message}")]
    Unreachable {
        /// Why the connection failed.
        message: String,
    },
    /// The request was sent (or may have been) but no usable HTTP answer came back (timeout,
    /// reset, a reply cut short): the API may have done the work.
    #[error("could not reach the API: {message}")]
    Transport {
        /// What went wrong on the wire.
        message: String,
    },
    /// The API answered something we cannot decode.
    #[error("the API sent a reply that could not be understood: {message}")]
    Protocol {
        /// What could not be decoded.
        message: String,
    },
    /// Any other HTTP error status.
    #[error("the API answered HTTP {status}: {message}")]
    Api {
        /// The HTTP status code.
        status: u16,
        /// The API's message.
        message: String,
    },
}

fn retry_after_hint(retry_after: Option<Duration>) -> String {
    match retry_after {
        Some(wait) => format!(" (retry after {} s)", wait.as_secs_f64().ceil()),
        None => String::new(),
    }
}

fn field_hint(field: Option<&str>) -> String {
    match field {
        Some(field) => format!("the value of `{field}`"),
        None => "the request".to_owned(),
    }
}

impl Error {
    /// True when the object does not exist: Read drops it from state, Delete succeeds.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
    }

    /// True when the HTTP layer may simply try again: rate limits, unavailability, transport
    /// failures, HTTP 5xx and 408. False for [`Error::Busy`]: a busy object can stay busy for
    /// minutes, so waiting on it is the resource's job (within its timeout), not a quick retry.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::RateLimited { .. }
            | Error::Unavailable { .. }
            | Error::Unreachable { .. }
            | Error::Transport { .. } => true,
            Error::Api { status, .. } => *status >= 500 || *status == 408,
            _ => false,
        }
    }

    /// True when a request that failed this way may still have been carried out: it was sent
    /// and no answer proves otherwise (a lost or cut reply, a timeout, a 5xx, which a proxy can
    /// send after the backend did the work, or a 2xx reply that could not be read). A create
    /// that failed so must be looked up, never blindly sent again.
    pub fn may_have_been_applied(&self) -> bool {
        match self {
            Error::Unavailable { .. } | Error::Transport { .. } | Error::Protocol { .. } => true,
            Error::Api { status, .. } => *status >= 500 || *status == 408,
            _ => false,
        }
    }

    /// True when the answer proves the request was not carried out and the same request may be
    /// sent again at once or after a pause: no connection was made, the rate limit refused it,
    /// or the object was busy.
    pub fn proves_nothing_done(&self) -> bool {
        matches!(
            self,
            Error::Unreachable { .. } | Error::RateLimited { .. } | Error::Busy { .. }
        )
    }

    /// True for a conflict that waiting will not resolve (duplicate, or another state
    /// conflict). False for [`Error::Busy`]: see [`Error::is_busy`].
    pub fn is_conflict(&self) -> bool {
        matches!(self, Error::Conflict { .. })
    }

    /// True when the object (or its parent) is busy and the same request will succeed later.
    pub fn is_busy(&self) -> bool {
        matches!(self, Error::Busy { .. })
    }

    /// The pause the server asked for, when it gave one (rate limits and busy objects).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after, .. } | Error::Busy { retry_after, .. } => {
                *retry_after
            }
            _ => None,
        }
    }

    /// The same error with its message redacted ([`http::redact_text`]). The HTTP client
    /// returns every error this way, whatever the vendor's mapper quoted from the reply.
    pub fn redacted(self) -> Self {
        let hide = |message: String| http::redact_text(&message);
        match self {
            Error::NotFound { message } => Error::NotFound {
                message: hide(message),
            },
            Error::Conflict { message } => Error::Conflict {
                message: hide(message),
            },
            Error::Busy {
                message,
                retry_after,
            } => Error::Busy {
                message: hide(message),
                retry_after,
            },
            Error::Unauthorized { message } => Error::Unauthorized {
                message: hide(message),
            },
            Error::Forbidden { message } => Error::Forbidden {
                message: hide(message),
            },
            Error::RateLimited {
                retry_after,
                message,
            } => Error::RateLimited {
                retry_after,
                message: hide(message),
            },
            Error::Invalid { field, message } => Error::Invalid {
                field,
                message: hide(message),
            },
            Error::PaymentRequired { message } => Error::PaymentRequired {
                message: hide(message),
            },
            Error::Unavailable { message } => Error::Unavailable {
                message: hide(message),
            },
            Error::Unreachable { message } => Error::Unreachable {
                message: hide(message),
            },
            Error::Transport { message } => Error::Transport {
                message: hide(message),
            },
            Error::Protocol { message } => Error::Protocol {
                message: hide(message),
            },
            Error::Api { status, message } => Error::Api {
                status,
                message: hide(message),
            },
            unsupported @ Error::Unsupported { .. } => unsupported,
        }
    }

    /// The API's own message (for diagnostics that end with it).
    pub fn api_message(&self) -> &str {
        match self {
            Error::NotFound { message }
            | Error::Conflict { message }
            | Error::Busy { message, .. }
            | Error::Unauthorized { message }
            | Error::Forbidden { message }
            | Error::RateLimited { message, .. }
            | Error::Invalid { message, .. }
            | Error::PaymentRequired { message }
            | Error::Unavailable { message }
            | Error::Unreachable { message }
            | Error::Transport { message }
            | Error::Protocol { message }
            | Error::Api { message, .. } => message,
            Error::Unsupported { what, .. } => what,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_display_ends_with_api_message() {
        let errors = [
            Error::NotFound {
                message: "database db-1 not found".into(),
            },
            Error::Invalid {
                field: Some("plan".into()),
                message: "database db-1 not found".into(),
            },
            Error::RateLimited {
                retry_after: Some(Duration::from_secs(3)),
                message: "database db-1 not found".into(),
            },
            Error::Api {
                status: 418,
                message: "database db-1 not found".into(),
            },
        ];
        for error in errors {
            assert!(
                error.to_string().ends_with("database db-1 not found"),
                "{error}"
            );
            assert_eq!(error.api_message(), "database db-1 not found");
        }
    }

    #[test]
    fn error_display_names_field_and_retry_after() {
        let invalid = Error::Invalid {
            field: Some("plan".into()),
            message: "unknown plan".into(),
        };
        assert_eq!(
            invalid.to_string(),
            "the API refused the value of `plan`: unknown plan"
        );
        let limited = Error::RateLimited {
            retry_after: Some(Duration::from_millis(1500)),
            message: "slow down".into(),
        };
        assert_eq!(
            limited.to_string(),
            "the API rate limit was exceeded (retry after 2 s): slow down"
        );
        let unsupported = Error::Unsupported {
            api: "globo",
            what: "updating the plan".into(),
        };
        assert_eq!(
            unsupported.to_string(),
            "the globo API does not support updating the plan"
        );
    }

    #[test]
    fn error_classification_matches_retry_rules() {
        let msg = || "m".to_owned();
        assert!(Error::Transport { message: msg() }.is_retryable());
        assert!(Error::Unavailable { message: msg() }.is_retryable());
        assert!(
            Error::RateLimited {
                retry_after: None,
                message: msg()
            }
            .is_retryable()
        );
        assert!(
            Error::Api {
                status: 500,
                message: msg()
            }
            .is_retryable()
        );
        assert!(
            !Error::Api {
                status: 418,
                message: msg()
            }
            .is_retryable()
        );
        assert!(!Error::Conflict { message: msg() }.is_retryable());
        assert!(Error::Conflict { message: msg() }.is_conflict());
        assert!(!Error::Protocol { message: msg() }.is_retryable());
        assert!(Error::NotFound { message: msg() }.is_not_found());
        assert!(
            !Error::Invalid {
                field: None,
                message: msg()
            }
            .is_not_found()
        );
    }

    #[test]
    fn error_busy_is_neither_conflict_nor_retryable() {
        let busy = Error::Busy {
            message: "database db-1 is busy (UPDATING); retry when it is READY".into(),
            retry_after: Some(Duration::from_secs(1)),
        };
        assert!(busy.is_busy());
        assert!(!busy.is_conflict());
        assert!(!busy.is_retryable());
        assert!(!busy.is_not_found());
        assert_eq!(busy.retry_after(), Some(Duration::from_secs(1)));
        assert_eq!(
            busy.to_string(),
            "the object is busy (retry after 1 s): database db-1 is busy (UPDATING); retry when \
             it is READY"
        );
        assert_eq!(
            busy.api_message(),
            "database db-1 is busy (UPDATING); retry when it is READY"
        );
        let duplicate = Error::Conflict {
            message: "exists".into(),
        };
        assert!(duplicate.is_conflict());
        assert!(!duplicate.is_busy());
        assert_eq!(duplicate.retry_after(), None);
        let unhinted = Error::Busy {
            message: "wait".into(),
            retry_after: None,
        };
        assert_eq!(unhinted.to_string(), "the object is busy: wait");
    }

    #[test]
    fn index_direction_maps_to_wire_numbers() {
        assert_eq!(IndexDirection::Ascending.as_number(), 1);
        assert_eq!(IndexDirection::Descending.as_number(), -1);
        assert_eq!(
            IndexDirection::from_number(1),
            Some(IndexDirection::Ascending)
        );
        assert_eq!(
            IndexDirection::from_number(-1),
            Some(IndexDirection::Descending)
        );
        for other in [0, 2, -2, i64::MAX] {
            assert_eq!(IndexDirection::from_number(other), None, "{other}");
        }
    }

    #[test]
    fn default_index_name_joins_fields_and_directions() {
        let key = |field: &str, direction| IndexKey {
            field: field.into(),
            direction,
        };
        assert_eq!(
            default_index_name(&[
                key("a", IndexDirection::Ascending),
                key("b", IndexDirection::Descending)
            ]),
            "a_1_b_-1"
        );
        assert_eq!(
            default_index_name(&[key("user.email", IndexDirection::Ascending)]),
            "user.email_1"
        );
        assert_eq!(default_index_name(&[]), "");
    }

    #[test]
    fn credential_debug_never_shows_password() {
        let credential = Credential {
            database_id: "db-1".into(),
            username: "app".into(),
            roles: vec!["readWrite@orders".into()],
            status: Status {
                phase: Phase::Pending,
                raw: "CREATING".into(),
                message: None,
            },
            password: Some(SecretString::from("Gener4tedPassw0rd")),
            password_chosen: false,
            created_at: "2026-11-22T08:00:00Z".into(),
        };
        let spec = CredentialSpec {
            username: "app".into(),
            roles: Vec::new(),
            password: Some(SecretString::from("Ch0senPassw0rd!")),
        };
        let shown = format!("{credential:?} {spec:?}");
        assert!(shown.contains("app"), "{shown}");
        assert!(!shown.contains("Gener4tedPassw0rd"), "{shown}");
        assert!(!shown.contains("Ch0senPassw0rd!"), "{shown}");
    }

    /// An API that implements only the required methods, to exercise the defaults.
    #[derive(Debug)]
    struct DatabasesOnly;

    #[async_trait]
    impl DbaasApi for DatabasesOnly {
        fn api_name(&self) -> &'static str {
            "globo"
        }

        fn features(&self) -> &'static [Feature] {
            &[Feature::Database]
        }

        async fn capabilities(&self) -> Result<Capabilities, Error> {
            Ok(Capabilities::default())
        }

        async fn create_database(&self, _spec: &DatabaseSpec) -> Result<Database, Error> {
            Err(self.unsupported("creating databases"))
        }

        async fn get_database(&self, _id: &str) -> Result<Database, Error> {
            Err(self.unsupported("reading databases"))
        }

        async fn list_databases(&self, _prefix: Option<&str>) -> Result<Vec<Database>, Error> {
            Ok(Vec::new())
        }

        async fn update_database(
            &self,
            _id: &str,
            _changes: &DatabaseChanges,
        ) -> Result<Database, Error> {
            Err(self.unsupported("updating databases"))
        }

        async fn delete_database(&self, _id: &str) -> Result<(), Error> {
            Ok(())
        }
    }

    fn unsupported_what(result: Result<impl std::fmt::Debug, Error>) -> String {
        match result {
            Err(Error::Unsupported { api, what }) => {
                assert_eq!(api, "globo");
                what
            }
            other => panic!("expected Unsupported, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn child_defaults_are_unsupported_and_name_the_api() {
        let api = DatabasesOnly;
        let db = "db-1";
        let password = SecretString::from("Ch0senPassw0rd!");
        let whats = [
            unsupported_what(api.create_credential(db, &CredentialSpec::default()).await),
            unsupported_what(api.get_credential(db, "app").await),
            unsupported_what(api.list_credentials(db).await),
            unsupported_what(api.update_credential_roles(db, "app", &[]).await),
            unsupported_what(
                api.reset_credential_password(db, "app", Some(&password))
                    .await,
            ),
            unsupported_what(api.reveal_credential_password(db, "app").await),
            unsupported_what(api.delete_credential(db, "app").await),
            unsupported_what(api.create_index(db, "c", &IndexSpec::default()).await),
            unsupported_what(api.get_index(db, "c", "a_1").await),
            unsupported_what(api.list_indexes(db, "c").await),
            unsupported_what(api.delete_index(db, "c", "a_1").await),
            unsupported_what(
                api.create_ip_restriction(db, &IpRestrictionSpec::default())
                    .await,
            ),
            unsupported_what(api.get_ip_restriction(db, "10.0.0.0/8").await),
            unsupported_what(api.list_ip_restrictions(db).await),
            unsupported_what(api.update_ip_restriction(db, "10.0.0.0/8", None).await),
            unsupported_what(api.delete_ip_restriction(db, "10.0.0.0/8").await),
        ];
        let distinct: std::collections::BTreeSet<_> = whats.iter().collect();
        assert_eq!(distinct.len(), whats.len(), "{whats:?}");
        let error = api.delete_index(db, "c", "a_1").await.unwrap_err();
        assert_eq!(
            error.to_string(),
            "the globo API does not support deleting indexes"
        );
    }

    #[test]
    fn changes_is_empty_only_without_fields() {
        assert!(DatabaseChanges::default().is_empty());
        let clear_description = DatabaseChanges {
            description: Some(None),
            ..DatabaseChanges::default()
        };
        assert!(!clear_description.is_empty());
    }
}
