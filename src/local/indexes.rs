//! Collection and index operations (MongoDB style): the rules every API of the service shares.
//!
//! A collection is created implicitly by its first index and always has the implicit `_id_`
//! index (unique, on `_id` ascending, `READY`). That index is not stored: it is made up from the
//! collection whenever it is listed or read, so it can never drift or be deleted. Changes run
//! in one store transaction together with the parent rule.

use serde::Serialize;

use super::databases::{Databases, parent_for_change, parent_for_read};
use super::error::LocalError;
use super::idempotency::{Created, Idempotency};
use super::lifecycle::{FaultedKind, Schedule};
use super::model::{Collection, Index, IndexKey, Status, new_uuid, whole_seconds};
use super::validation::{
    ID_FIELD, ID_INDEX, MAX_INDEX_NAME_CHARS, RequestedKey, validate_collection,
    validate_index_name, validate_keys,
};

/// A create request after wire decoding; serialized as the text an idempotency key is bound to.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct CreateIndex {
    /// Index name, or `None` for the MongoDB-style default (`a_1_b_-1`).
    pub(crate) name: Option<String>,
    /// Fields in order.
    pub(crate) keys: Vec<RequestedKey>,
    /// Whether indexed values must be unique.
    pub(crate) unique: bool,
    /// Whether documents lacking the fields are left out.
    pub(crate) sparse: bool,
}

/// A collection and how many indexes it has (the implicit `_id_` included).
#[derive(Debug, Clone)]
pub(crate) struct CollectionSummary {
    /// Collection name.
    pub(crate) name: String,
    /// Indexes listed for it, `_id_` and transitional ones included.
    pub(crate) index_count: usize,
}

/// The index operations, over the shared store.
#[derive(Debug, Clone)]
pub(crate) struct Indexes {
    databases: Databases,
}

impl Indexes {
    /// Operations sharing the store, clock and lifecycle of `databases`.
    pub(crate) fn new(databases: Databases) -> Self {
        Self { databases }
    }

    /// Validates and creates an index (status `BUILDING`), creating its collection when needed,
    /// or replays an earlier create with the same idempotency key.
    pub(crate) async fn create(
        &self,
        database_id: &str,
        collection: &str,
        request: CreateIndex,
        idempotency: Option<Idempotency>,
    ) -> Result<Index, LocalError> {
        validate_collection(collection)?;
        let keys = validate_keys(&request.keys)?;
        let name = match &request.name {
            Some(name) => {
                validate_index_name(name)?;
                name.clone()
            }
            None => {
                let name = default_name(&keys);
                if name.chars().count() > MAX_INDEX_NAME_CHARS {
                    return Err(LocalError::invalid(
                        "name",
                        format!(
                            "the default index name would be longer than \
                             {MAX_INDEX_NAME_CHARS} characters; give the index a name"
                        ),
                    ));
                }
                name
            }
        };
        let now = self.databases.clock().now();
        let binding = idempotency
            .map(|idempotency| idempotency.bind(&request, now))
            .transpose()?;
        let settles_at = self.databases.settles_at(now);
        let (database_id, collection) = (database_id.to_owned(), collection.to_owned());
        let faults = std::sync::Arc::clone(self.databases.lifecycle_faults());
        let created = self
            .databases
            .store()
            .transact(move |tx| {
                if let Some(binding) = &binding
                    && let Some(earlier) = binding
                        .replayed(tx, "index", |tx, uuid| tx.index_by_uuid(&database_id, uuid))?
                {
                    return Ok(Created::Replayed(earlier));
                }
                parent_for_change(tx, &database_id)?;
                if tx.collection(&database_id, &collection)?.is_none() {
                    tx.insert_collection(&Collection {
                        database_id: database_id.clone(),
                        name: collection.clone(),
                        created_at: whole_seconds(now),
                    })?;
                }
                for existing in tx.indexes(&database_id, &collection)? {
                    if existing.name == name || existing.keys == keys {
                        return Err(taken(&existing, existing.name == name));
                    }
                }
                let Schedule {
                    transition_at,
                    fails_with,
                } = faults.schedule(FaultedKind::Index, &name, settles_at);
                let index = Index {
                    database_id,
                    uuid: new_uuid(),
                    collection,
                    name,
                    keys,
                    unique: request.unique,
                    sparse: request.sparse,
                    status: Status::Building,
                    created_at: whole_seconds(now),
                    transition_at,
                    fails_with,
                };
                tx.insert_index(&index)?;
                if let Some(binding) = &binding {
                    binding.remember(tx, &index.uuid)?;
                }
                Ok(Created::New(index))
            })
            .await?;
        if let Created::New(index) = &created {
            self.databases.wake();
            tracing::info!(
                database_id = %index.database_id,
                collection = %index.collection,
                name = %index.name,
                "index building"
            );
        }
        Ok(created.into_inner())
    }

    /// One index (`_id_` included), whatever the database's status; 404 when absent or gone.
    pub(crate) async fn get(
        &self,
        database_id: &str,
        collection: &str,
        name: &str,
    ) -> Result<Index, LocalError> {
        let (database_id, collection, name) = (
            database_id.to_owned(),
            collection.to_owned(),
            name.to_owned(),
        );
        self.databases
            .store()
            .transact(move |tx| {
                parent_for_read(tx, &database_id)?;
                let stored = tx
                    .collection(&database_id, &collection)?
                    .ok_or_else(|| collection_not_found(&database_id, &collection))?;
                if name == ID_INDEX {
                    return Ok(id_index(&stored));
                }
                tx.index(&database_id, &collection, &name)?
                    .ok_or_else(|| index_not_found(&database_id, &collection, &name))
            })
            .await
    }

    /// The indexes of a collection: `_id_` first, then by name; 404 when the collection does
    /// not exist.
    pub(crate) async fn list(
        &self,
        database_id: &str,
        collection: &str,
    ) -> Result<Vec<Index>, LocalError> {
        let (database_id, collection) = (database_id.to_owned(), collection.to_owned());
        self.databases
            .store()
            .transact(move |tx| {
                parent_for_read(tx, &database_id)?;
                let stored = tx
                    .collection(&database_id, &collection)?
                    .ok_or_else(|| collection_not_found(&database_id, &collection))?;
                let mut indexes = vec![id_index(&stored)];
                indexes.extend(tx.indexes(&database_id, &collection)?);
                Ok(indexes)
            })
            .await
    }

    /// The collections of a database, sorted by name.
    pub(crate) async fn collections(
        &self,
        database_id: &str,
    ) -> Result<Vec<CollectionSummary>, LocalError> {
        let database_id = database_id.to_owned();
        self.databases
            .store()
            .transact(move |tx| {
                parent_for_read(tx, &database_id)?;
                Ok(tx
                    .collections(&database_id)?
                    .into_iter()
                    .map(|(collection, stored)| CollectionSummary {
                        name: collection.name,
                        index_count: stored + 1,
                    })
                    .collect())
            })
            .await
    }

    /// Starts deleting an index (status `DELETING`), whatever its status; deleting one that is
    /// already `DELETING` changes nothing. `_id_` cannot be deleted.
    pub(crate) async fn delete(
        &self,
        database_id: &str,
        collection: &str,
        name: &str,
    ) -> Result<Index, LocalError> {
        if name == ID_INDEX {
            return Err(LocalError::invalid(
                "name",
                "the _id_ index is implicit and cannot be deleted",
            ));
        }
        let now = self.databases.clock().now();
        let settles_at = self.databases.settles_at(now);
        let (database_id, collection, name) = (
            database_id.to_owned(),
            collection.to_owned(),
            name.to_owned(),
        );
        let (index, changed) = self
            .databases
            .store()
            .transact(move |tx| {
                parent_for_change(tx, &database_id)?;
                if tx.collection(&database_id, &collection)?.is_none() {
                    return Err(collection_not_found(&database_id, &collection));
                }
                let mut index = tx
                    .index(&database_id, &collection, &name)?
                    .ok_or_else(|| index_not_found(&database_id, &collection, &name))?;
                if index.status == Status::Deleting {
                    return Ok((index, false));
                }
                index.status = Status::Deleting;
                index.transition_at = Some(settles_at);
                tx.update_index(&index)?;
                Ok((index, true))
            })
            .await?;
        if changed {
            self.databases.wake();
            tracing::info!(
                database_id = %index.database_id,
                collection = %index.collection,
                name = %index.name,
                "index deleting"
            );
        }
        Ok(index)
    }
}

/// The implicit `_id_` index of a collection.
pub(crate) fn id_index(collection: &Collection) -> Index {
    Index {
        database_id: collection.database_id.clone(),
        uuid: String::new(),
        collection: collection.name.clone(),
        name: ID_INDEX.to_owned(),
        keys: vec![IndexKey {
            field: ID_FIELD.to_owned(),
            direction: 1,
        }],
        unique: true,
        sparse: false,
        status: Status::Ready,
        created_at: collection.created_at,
        transition_at: None,
        fails_with: None,
    }
}

/// MongoDB's default name: each field and direction, joined by `_` (`a_1_b_-1`).
pub(crate) fn default_name(keys: &[IndexKey]) -> String {
    keys.iter()
        .map(|key| format!("{}_{}", key.field, key.direction))
        .collect::<Vec<_>>()
        .join("_")
}

fn collection_not_found(database_id: &str, collection: &str) -> LocalError {
    LocalError::NotFound(format!(
        "collection {collection:?} not found on database {database_id}"
    ))
}

fn index_not_found(database_id: &str, collection: &str, name: &str) -> LocalError {
    LocalError::NotFound(format!(
        "index {name:?} not found on collection {collection:?} of database {database_id}"
    ))
}

/// An index clashing by name or by keys: a duplicate, or busy while it is being deleted.
fn taken(existing: &Index, same_name: bool) -> LocalError {
    let what = if same_name {
        format!(
            "an index named {:?} already exists on collection {:?}",
            existing.name, existing.collection
        )
    } else {
        format!(
            "index {:?} on collection {:?} already has these keys",
            existing.name, existing.collection
        )
    };
    if existing.status == Status::Deleting {
        LocalError::Busy(format!(
            "{what} and is being deleted; retry when it is gone"
        ))
    } else {
        LocalError::Duplicate(what)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(field: &str, direction: i64) -> RequestedKey {
        RequestedKey {
            field: field.into(),
            direction,
        }
    }

    #[test]
    fn default_name_joins_fields_and_directions() {
        let keys = validate_keys(&[key("a", 1), key("b", -1)]).unwrap();
        assert_eq!(default_name(&keys), "a_1_b_-1");
        let keys = validate_keys(&[key("address.city", 1)]).unwrap();
        assert_eq!(default_name(&keys), "address.city_1");
    }
}
