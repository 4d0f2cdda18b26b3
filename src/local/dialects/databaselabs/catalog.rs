//! What the databaselabs dialect offers (`GET /api/plans`) and how its sizes and regions are
//! kept in the shared store, whose catalog has other names.
//!
//! Sizes and regions are the seed's lists. Each size is offered in every region, as plan
//! `<size>-do-<region>-dev` on DigitalOcean, at $20 a month per 512 MB (the seed shows $20 for
//! 512mb; the other prices are not published and are this emulator's choice). The region order
//! puts `ams3`, `nyc3` and `lon1` first, the order of the seed's example reply.

use crate::local::model::Database;

/// The region a create without `region` gets (seed: "The default is nyc3").
pub(crate) const DEFAULT_REGION: &str = "nyc3";

/// The only cloud the emulated plans run on.
pub(crate) const CLOUD: &str = "digitalocean";

/// A memory size: its name, its store flavor and its monthly price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Size {
    /// The databaselabs name (`512mb`).
    pub(crate) name: &'static str,
    /// The store flavor a database of this size gets (closest memory at or above, else the
    /// largest): the store has three flavors for eight sizes.
    pub(crate) flavor: &'static str,
    /// Monthly price in dollars.
    pub(crate) monthly_price_dollars: u32,
}

/// A datacenter region and the store region it is kept in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Region {
    /// The databaselabs name (`nyc3`).
    pub(crate) name: &'static str,
    /// Human description, as in the seed (`New York 3`).
    pub(crate) description: &'static str,
    /// The store region (the store has three regions for eight).
    pub(crate) store_region: &'static str,
}

/// Every size, smallest first.
pub(crate) const SIZES: &[Size] = &[
    size("512mb", "db1-4", 20),
    size("1gb", "db1-4", 40),
    size("2gb", "db1-4", 80),
    size("4gb", "db1-4", 160),
    size("8gb", "db1-7", 320),
    size("16gb", "db1-15", 640),
    size("48gb", "db1-15", 1920),
    size("64gb", "db1-15", 2560),
];

/// Every region, in the order plans are listed.
pub(crate) const REGIONS: &[Region] = &[
    region("ams3", "Amsterdam 3", "eu-west-1"),
    region("nyc3", "New York 3", "us-east-1"),
    region("lon1", "London 1", "eu-west-1"),
    region("nyc2", "New York 2", "us-east-1"),
    region("sfo1", "San Francisco 1", "us-east-1"),
    region("ams2", "Amsterdam 2", "eu-west-1"),
    region("sgp1", "Singapore 1", "eu-west-1"),
    region("fra1", "Frankfurt 1", "eu-central-1"),
];

const fn size(name: &'static str, flavor: &'static str, monthly_price_dollars: u32) -> Size {
    Size {
        name,
        flavor,
        monthly_price_dollars,
    }
}

const fn region(
    name: &'static str,
    description: &'static str,
    store_region: &'static str,
) -> Region {
    Region {
        name,
        description,
        store_region,
    }
}

/// The size named `name`, if offered.
pub(crate) fn size_named(name: &str) -> Option<&'static Size> {
    SIZES.iter().find(|size| size.name == name)
}

/// The region named `name`, if offered.
pub(crate) fn region_named(name: &str) -> Option<&'static Region> {
    REGIONS.iter().find(|region| region.name == name)
}

/// Comma-separated size names, for "available: …" messages.
pub(crate) fn size_names() -> String {
    SIZES.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
}

/// Comma-separated region names, for "available: …" messages.
pub(crate) fn region_names() -> String {
    REGIONS
        .iter()
        .map(|r| r.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The body of `GET /api/plans`: every size in every region.
pub(crate) fn plans() -> serde_json::Value {
    let plans: Vec<serde_json::Value> = SIZES
        .iter()
        .flat_map(|size| {
            REGIONS.iter().map(move |region| {
                serde_json::json!({
                    "hostsize": size.name,
                    "id": format!("{}-do-{}-dev", size.name, region.name),
                    "monthly_price_dollars": size.monthly_price_dollars,
                    "region": region.name,
                    "region_description": region.description,
                    "cloud": CLOUD,
                })
            })
        })
        .collect();
    serde_json::Value::Array(plans)
}

/// Prefix of the store description that records a database's databaselabs size and region.
const TAG_PREFIX: &str = "databaselabs:";

/// The store description of a new database: its size and region in databaselabs' names,
/// which the store's catalog cannot hold (`databaselabs:512mb@nyc2`).
pub(crate) fn description_tag(size: &Size, region: &Region) -> String {
    format!("{TAG_PREFIX}{}@{}", size.name, region.name)
}

/// A database's size and region in databaselabs' names: from its description tag when it has
/// a valid one whose region matches the store's, else derived from its flavor and region (a
/// database made through `/v1`, or whose description was changed there).
pub(crate) fn size_and_region(database: &Database) -> (&'static Size, &'static Region) {
    let tagged = database
        .description
        .as_deref()
        .and_then(|text| text.strip_prefix(TAG_PREFIX))
        .and_then(|tag| tag.split_once('@'))
        .and_then(|(size, region)| Some((size_named(size)?, region_named(region)?)))
        .filter(|(size, region)| {
            size.flavor == database.flavor && region.store_region == database.region
        });
    if let Some(found) = tagged {
        return found;
    }
    let size = SIZES
        .iter()
        .filter(|size| size.flavor == database.flavor)
        .max_by_key(|size| size.monthly_price_dollars)
        .unwrap_or(&SIZES[0]);
    let size = match database.flavor.as_str() {
        // The smallest flavor holds several sizes; a database made elsewhere gets its own.
        "db1-4" => size_named("4gb").unwrap_or(size),
        "db1-15" => size_named("16gb").unwrap_or(size),
        _ => size,
    };
    let region = REGIONS
        .iter()
        .find(|region| region.store_region == database.region)
        .unwrap_or(&REGIONS[1]);
    (size, region)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::local::catalog::CATALOG;

    #[test]
    fn catalog_maps_onto_store_names() {
        for size in SIZES {
            assert!(CATALOG.flavor(size.flavor).is_some(), "{}", size.name);
        }
        for region in REGIONS {
            assert!(
                CATALOG.region(region.store_region).is_some(),
                "{}",
                region.name
            );
        }
        assert!(region_named(DEFAULT_REGION).is_some());
        for store_region in CATALOG.regions {
            assert!(
                REGIONS.iter().any(|r| r.store_region == store_region.name),
                "{}",
                store_region.name
            );
        }
    }

    #[test]
    fn plans_start_like_the_seed_and_cover_every_pair() {
        let plans = plans();
        let plans = plans.as_array().unwrap();
        assert_eq!(plans.len(), SIZES.len() * REGIONS.len());
        assert_eq!(
            plans[0],
            serde_json::json!({"hostsize": "512mb", "id": "512mb-do-ams3-dev",
                "monthly_price_dollars": 20, "region": "ams3",
                "region_description": "Amsterdam 3", "cloud": "digitalocean"})
        );
        assert_eq!(plans[1]["id"], "512mb-do-nyc3-dev");
        assert_eq!(plans[2]["region_description"], "London 1");
    }

    #[test]
    fn size_and_region_read_the_tag_or_fall_back() {
        let mut database = Database {
            id: "db-000000000001".into(),
            uuid: "00000000-0000-4000-8000-000000000001".into(),
            name: "vivid-answer-395".into(),
            engine: "postgresql".into(),
            version: "17".into(),
            plan: "essential".into(),
            region: "us-east-1".into(),
            flavor: "db1-4".into(),
            node_count: 1,
            description: Some(description_tag(
                size_named("1gb").unwrap(),
                region_named("nyc2").unwrap(),
            )),
            locked: false,
            status: crate::local::model::Status::Ready,
            status_message: None,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
            transition_at: None,
            gone_at: None,
            fails_with: None,
            served_at: None,
        };
        let (size, region) = size_and_region(&database);
        assert_eq!((size.name, region.name), ("1gb", "nyc2"));
        database.description = Some("made through /v1".into());
        let (size, region) = size_and_region(&database);
        assert_eq!((size.name, region.name), ("4gb", "nyc3"));
        database.flavor = "db1-7".into();
        database.region = "eu-central-1".into();
        database.description = Some("databaselabs:1gb@nyc2".into());
        let (size, region) = size_and_region(&database);
        assert_eq!((size.name, region.name), ("8gb", "fra1"));
    }
}
