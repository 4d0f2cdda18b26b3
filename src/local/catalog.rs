//! What dbaas-local offers: engines and versions, plans, regions, flavors and the defaults.
//!
//! The catalog is fixed (from the native API contract) and serializes exactly into the body of
//! `GET /v1/capabilities`; validation of create/update requests reads it, so the answer and the
//! checks can never disagree.

use serde::Serialize;

/// A database engine that can be provisioned.
#[derive(Debug, Serialize)]
pub(crate) struct Engine {
    /// Engine name as used in requests (`mongodb`, ...).
    pub(crate) name: &'static str,
    /// Versions that can be chosen, oldest first.
    pub(crate) versions: &'static [&'static str],
    /// Version used when a create request names none.
    pub(crate) default_version: &'static str,
    /// URL scheme of the endpoint; not part of the capabilities answer.
    #[serde(skip)]
    pub(crate) scheme: &'static str,
    /// Port of the endpoint; not part of the capabilities answer.
    #[serde(skip)]
    pub(crate) port: u16,
}

/// A service plan (size of the deployment).
#[derive(Debug, Serialize)]
pub(crate) struct Plan {
    /// Plan name as used in requests.
    pub(crate) name: &'static str,
    /// Human description shown by clients.
    pub(crate) description: &'static str,
    /// Nodes a database on this plan runs on unless it asks for another count.
    pub(crate) node_count: u32,
    /// Fewest nodes a database on this plan may have.
    pub(crate) min_node_count: u32,
    /// Most nodes a database on this plan may have.
    pub(crate) max_node_count: u32,
}

/// A region databases can live in.
#[derive(Debug, Serialize)]
pub(crate) struct Region {
    /// Region name as used in requests and in endpoints.
    pub(crate) name: &'static str,
    /// Human description shown by clients.
    pub(crate) description: &'static str,
}

/// A node size; every database has one (the first listed unless it asks for another).
#[derive(Debug, Serialize)]
pub(crate) struct Flavor {
    /// Flavor name.
    pub(crate) name: &'static str,
    /// vCPU cores per node.
    pub(crate) cores: u32,
    /// Memory per node in GB.
    pub(crate) memory_gb: u32,
    /// Storage per node in GB.
    pub(crate) storage_gb: u32,
}

/// What a create request gets for the fields it leaves out.
#[derive(Debug, Serialize)]
pub(crate) struct Defaults {
    /// Default engine name.
    pub(crate) engine: &'static str,
    /// Default plan name.
    pub(crate) plan: &'static str,
    /// Default region name.
    pub(crate) region: &'static str,
}

/// Everything the service offers; the body of `GET /v1/capabilities`.
#[derive(Debug, Serialize)]
pub(crate) struct Catalog {
    /// Engines and their versions.
    pub(crate) engines: &'static [Engine],
    /// Plans.
    pub(crate) plans: &'static [Plan],
    /// Regions.
    pub(crate) regions: &'static [Region],
    /// Flavors.
    pub(crate) flavors: &'static [Flavor],
    /// Defaults for omitted create fields.
    pub(crate) defaults: Defaults,
}

/// The catalog of the contract, v1.
pub(crate) static CATALOG: Catalog = Catalog {
    engines: &[
        Engine {
            name: "mongodb",
            versions: &["6.0", "7.0", "8.0"],
            default_version: "8.0",
            scheme: "mongodb",
            port: 27017,
        },
        Engine {
            name: "postgresql",
            versions: &["15", "16", "17"],
            default_version: "17",
            scheme: "postgresql",
            port: 5432,
        },
        Engine {
            name: "mysql",
            versions: &["8.0", "8.4"],
            default_version: "8.4",
            scheme: "mysql",
            port: 3306,
        },
    ],
    plans: &[
        Plan {
            name: "essential",
            description: "Single node for development and small workloads",
            node_count: 1,
            min_node_count: 1,
            max_node_count: 1,
        },
        Plan {
            name: "business",
            description: "Three-node replica set for production workloads",
            node_count: 3,
            min_node_count: 3,
            max_node_count: 8,
        },
        Plan {
            name: "enterprise",
            description: "Three-node cluster with dedicated resources for critical workloads",
            node_count: 3,
            min_node_count: 3,
            max_node_count: 8,
        },
    ],
    regions: &[
        Region {
            name: "eu-west-1",
            description: "Europe West (Paris)",
        },
        Region {
            name: "eu-central-1",
            description: "Europe Central (Frankfurt)",
        },
        Region {
            name: "us-east-1",
            description: "US East (Virginia)",
        },
    ],
    flavors: &[
        Flavor {
            name: "db1-4",
            cores: 1,
            memory_gb: 4,
            storage_gb: 20,
        },
        Flavor {
            name: "db1-7",
            cores: 2,
            memory_gb: 7,
            storage_gb: 40,
        },
        Flavor {
            name: "db1-15",
            cores: 4,
            memory_gb: 15,
            storage_gb: 80,
        },
    ],
    defaults: Defaults {
        engine: "mongodb",
        plan: "essential",
        region: "eu-west-1",
    },
};

impl Catalog {
    /// The engine with this name, if offered.
    pub(crate) fn engine(&self, name: &str) -> Option<&Engine> {
        self.engines.iter().find(|engine| engine.name == name)
    }

    /// The plan with this name, if offered.
    pub(crate) fn plan(&self, name: &str) -> Option<&Plan> {
        self.plans.iter().find(|plan| plan.name == name)
    }

    /// The region with this name, if offered.
    pub(crate) fn region(&self, name: &str) -> Option<&Region> {
        self.regions.iter().find(|region| region.name == name)
    }

    /// The flavor with this name, if offered.
    pub(crate) fn flavor(&self, name: &str) -> Option<&Flavor> {
        self.flavors.iter().find(|flavor| flavor.name == name)
    }

    /// The flavor a database gets when it asks for none: the first (smallest) one.
    pub(crate) fn default_flavor(&self) -> &Flavor {
        &self.flavors[0]
    }

    /// Comma-separated engine names, for "allowed: ..." messages.
    pub(crate) fn engine_names(&self) -> String {
        join(self.engines.iter().map(|engine| engine.name))
    }

    /// Comma-separated plan names, for "allowed: ..." messages.
    pub(crate) fn plan_names(&self) -> String {
        join(self.plans.iter().map(|plan| plan.name))
    }

    /// Comma-separated region names, for "allowed: ..." messages.
    pub(crate) fn region_names(&self) -> String {
        join(self.regions.iter().map(|region| region.name))
    }

    /// Comma-separated flavor names, for "allowed: ..." messages.
    pub(crate) fn flavor_names(&self) -> String {
        join(self.flavors.iter().map(|flavor| flavor.name))
    }
}

impl Plan {
    /// Whether a database on this plan may run on `count` nodes.
    pub(crate) fn allows_node_count(&self, count: u32) -> bool {
        (self.min_node_count..=self.max_node_count).contains(&count)
    }
}

impl Engine {
    /// Whether `version` can be chosen for this engine.
    pub(crate) fn offers_version(&self, version: &str) -> bool {
        self.versions.contains(&version)
    }

    /// Comma-separated versions, for "allowed: ..." messages.
    pub(crate) fn version_names(&self) -> String {
        join(self.versions.iter().copied())
    }
}

fn join<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names.collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn catalog_defaults_are_offered() {
        let engine = CATALOG
            .engine(CATALOG.defaults.engine)
            .expect("default engine");
        assert!(CATALOG.plan(CATALOG.defaults.plan).is_some());
        assert!(CATALOG.region(CATALOG.defaults.region).is_some());
        for engine in CATALOG.engines {
            assert!(
                engine.offers_version(engine.default_version),
                "{}",
                engine.name
            );
        }
        assert_eq!(engine.default_version, "8.0");
        assert_eq!(CATALOG.default_flavor().name, "db1-4");
        for plan in CATALOG.plans {
            assert!(plan.allows_node_count(plan.node_count), "{}", plan.name);
            assert!(plan.max_node_count <= 8, "{}", plan.name);
        }
    }

    #[test]
    fn catalog_plans_bound_node_counts() {
        let count = |plan: &str, nodes: u32| CATALOG.plan(plan).unwrap().allows_node_count(nodes);
        assert!(count("essential", 1));
        assert!(!count("essential", 2));
        assert!(!count("business", 2));
        assert!(count("business", 3) && count("business", 8));
        assert!(!count("business", 9));
        assert!(count("enterprise", 8) && !count("enterprise", 1));
        assert!(CATALOG.flavor("db1-15").is_some());
        assert!(CATALOG.flavor("b3-8").is_none());
        assert_eq!(CATALOG.flavor_names(), "db1-4, db1-7, db1-15");
    }

    #[test]
    fn catalog_serializes_to_contract_shape() {
        let value = serde_json::to_value(&CATALOG).expect("serialize");
        assert_eq!(
            value["engines"][1],
            json!({"name": "postgresql", "versions": ["15", "16", "17"], "default_version": "17"})
        );
        assert_eq!(
            value["plans"][1],
            json!({"name": "business", "description": "Three-node replica set for production workloads",
                   "node_count": 3, "min_node_count": 3, "max_node_count": 8})
        );
        assert_eq!(
            value["defaults"],
            json!({"engine": "mongodb", "plan": "essential", "region": "eu-west-1"})
        );
        assert_eq!(value["flavors"][0]["name"], "db1-4");
        assert_eq!(value["regions"].as_array().map(Vec::len), Some(3));
    }

    #[test]
    fn catalog_lookup_rejects_unknown_names() {
        assert!(CATALOG.engine("oracle").is_none());
        assert!(CATALOG.plan("free").is_none());
        assert!(CATALOG.region("mars-1").is_none());
        assert_eq!(CATALOG.engine_names(), "mongodb, postgresql, mysql");
        let mysql = CATALOG.engine("mysql").unwrap();
        assert!(!mysql.offers_version("5.7"));
        assert_eq!(mysql.version_names(), "8.0, 8.4");
    }
}
