//! An `UpdateItem` expression under construction: the one way every write
//! in [`super`] spells its `SET`, `REMOVE`, `ADD` and `DELETE` clauses, names and values.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

use super::{Item, KEY};
use crate::session::SessionId;

/// An `UpdateItem` expression under construction. Attribute `x` is always
/// written through the name `#x` and the value `:x`, so expressions read like
/// the item they change.
#[derive(Debug)]
pub struct Update {
    set: String,
    remove: String,
    add: String,
    delete: String,
    names: HashMap<String, String>,
    values: Item,
}

impl Default for Update {
    /// Sized for the apply update, the largest (about 20 attributes): it is
    /// built on every delivery, so no rehashing and few allocations.
    fn default() -> Self {
        Self {
            set: String::with_capacity(512),
            remove: String::new(),
            add: String::new(),
            delete: String::new(),
            names: HashMap::with_capacity(24),
            values: HashMap::with_capacity(24),
        }
    }
}

impl Update {
    pub(super) fn set(&mut self, attr: &str, value: AttributeValue) -> &mut Self {
        append(&mut self.set, &["#", attr, " = :", attr]);
        self.bind(attr, value)
    }

    pub(super) fn set_expr(&mut self, attr: &str, expr: &str) -> &mut Self {
        append(&mut self.set, &["#", attr, " = ", expr]);
        self.name_attr(attr)
    }

    pub(super) fn add(&mut self, attr: &str, value: AttributeValue) -> &mut Self {
        append(&mut self.add, &["#", attr, " :", attr]);
        self.bind(attr, value)
    }

    /// Removes the elements of the set `value` from the set `attr`.
    pub(super) fn delete(&mut self, attr: &str, value: AttributeValue) -> &mut Self {
        append(&mut self.delete, &["#", attr, " :", attr]);
        self.bind(attr, value)
    }

    /// Binds `#attr` and `:attr` for a condition, without changing `attr`.
    pub(super) fn bind(&mut self, attr: &str, value: AttributeValue) -> &mut Self {
        self.values.insert(sigil(':', attr), value);
        self.name_attr(attr)
    }

    pub(super) fn remove(&mut self, attr: &str) -> &mut Self {
        append(&mut self.remove, &["#", attr]);
        self.name_attr(attr)
    }

    /// The update expression: `SET`, `REMOVE`, `ADD` and `DELETE` clauses.
    pub fn expression(&self) -> String {
        let clauses = [
            ("SET ", &self.set),
            ("REMOVE ", &self.remove),
            ("ADD ", &self.add),
            ("DELETE ", &self.delete),
        ];
        let length: usize = clauses.iter().map(|(_, parts)| parts.len() + 8).sum();
        let mut expression = String::with_capacity(length);
        for (keyword, parts) in clauses {
            if !parts.is_empty() {
                if !expression.is_empty() {
                    expression.push(' ');
                }
                expression.push_str(keyword);
                expression.push_str(parts);
            }
        }
        expression
    }

    /// The value bound to `placeholder` (`:attr`), for tests.
    #[cfg(test)]
    pub(super) fn value_of(&self, placeholder: &str) -> Option<&AttributeValue> {
        self.values.get(placeholder)
    }

    /// Names `attr` as `#attr`.
    fn name_attr(&mut self, attr: &str) -> &mut Self {
        self.name(sigil('#', attr), attr)
    }

    pub(super) fn name(&mut self, placeholder: impl Into<String>, attr: &str) -> &mut Self {
        self.names.insert(placeholder.into(), attr.into());
        self
    }

    pub(super) fn value(&mut self, placeholder: &str, value: AttributeValue) -> &mut Self {
        self.values.insert(placeholder.into(), value);
        self
    }

    /// The expression, names and values on an `UpdateItem` for `session`.
    /// DynamoDB refuses unused names and values, so a condition may only use
    /// the ones the update (or an explicit `name`/`value`) brought in.
    pub(super) fn request(
        &mut self,
        client: &Client,
        table: &str,
        session: &SessionId,
    ) -> UpdateItemFluentBuilder {
        client
            .update_item()
            .table_name(table)
            .key(KEY, s(session.as_str()))
            .update_expression(self.expression())
            .set_expression_attribute_names(Some(std::mem::take(&mut self.names)))
            .set_expression_attribute_values(
                Some(std::mem::take(&mut self.values)).filter(|v| !v.is_empty()),
            )
    }
}

/// Appends one comma-separated part, made of `pieces`, to a clause.
fn append(clause: &mut String, pieces: &[&str]) {
    if !clause.is_empty() {
        clause.push_str(", ");
    }
    for piece in pieces {
        clause.push_str(piece);
    }
}

/// `#attr` or `:attr`.
fn sigil(sigil: char, attr: &str) -> String {
    let mut placeholder = String::with_capacity(attr.len() + 1);
    placeholder.push(sigil);
    placeholder.push_str(attr);
    placeholder
}

pub(super) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(super) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}
