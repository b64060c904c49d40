"""A progress report as one conditional write (listening/repository/tables.py has the item).

The report is compared with the stored progress, read once, eventually consistently: which of
four cases applies (newer and further, newer only, further only, neither) decides what the one
UpdateItem sets, and its condition states that case exactly. Both ``latest`` time and
``furthest`` order only grow, so a stale read is a lower bound: at worst it predicts a change
that a concurrent report has already made moot, the condition fails, DynamoDB returns the item
as it is (ReturnValuesOnConditionCheckFailure) and the case is decided again from there. Every
failure means another report was written, so the loop ends; "neither" writes nothing, once a
consistent read has confirmed it (a stale read may still show progress deleted a moment ago).

Ties keep what is stored: a report becomes latest only if strictly newer, furthest only if
strictly further (the SQL backend has the same rule).
"""

from __future__ import annotations

from typing import NamedTuple

from books.errors import RepositoryBusy
from books.repository.dynamodb.calls import Calls, ConditionFailed
from listening.domain import Position, ProgressWrite

from .items import (
    Item,
    exact,
    item_to_progress,
    micros,
    progress_key,
    report_values,
    stored_order,
)

# Named conditions: the four cases, as the stored item must still be for the write to apply.
# A comparison with an attribute that does not exist is false, so the three updates also
# require the progress to exist, and the create requires it not to.
IS_NEW = "attribute_not_exists(sk)"
NEWER = "lt < :t"
NOT_NEWER = "lt >= :t"
FURTHER = "(fn < :n OR (fn = :n AND fp < :p))"
NOT_FURTHER = "(fn > :n OR (fn = :n AND fp >= :p))"

SET_LATEST = "lt = :t, lc = :c, ln = :n, lp = :p, ld = :d"
SET_FURTHEST = "ft = :t, fc = :c, fn = :n, fp = :p, fd = :d"

# Each failed attempt means another report was written meanwhile: more than this many devices
# of one listener reporting in one book within one round trip is not a listener.
ATTEMPTS = 8


class Plan(NamedTuple):
    """One UpdateItem: what it sets, under which condition, and whether the report becomes
    latest by it."""

    update: str
    condition: str
    values: Item
    applied: bool


def plan(stored: Item | None, report: Position, finishes: bool, book_id: str) -> Plan | None:
    """The write that merges ``report`` into ``stored`` (None: there is none yet), or None
    when the report changes nothing."""
    values = report_values(report)
    if stored is None:
        values[":b"] = {"S": book_id}
        values[":f"] = {"BOOL": finishes}
        update = f"SET b = :b, f = :f, {SET_LATEST}, {SET_FURTHEST}"
        return Plan(update, IS_NEW, values, applied=True)
    newer = micros(report.updated_at) > int(stored["lt"]["N"])
    further = (report.chapter_number, exact(report.position_seconds)) > stored_order(stored)
    if not (newer or further):
        return None
    sets = []
    if newer:
        sets.append(SET_LATEST)
    if further:
        sets.append(SET_FURTHEST)
        if finishes:
            sets.append("f = :f")
            values[":f"] = {"BOOL": True}
    condition = f"{NEWER if newer else NOT_NEWER} AND {FURTHER if further else NOT_FURTHER}"
    return Plan("SET " + ", ".join(sets), condition, values, applied=newer)


def record(
    calls: Calls, table: str, *, user_id: int, book_id: str, report: Position, finishes: bool
) -> ProgressWrite:
    key = progress_key(user_id, book_id)
    stored = calls.call("get_item", TableName=table, Key=key).get("Item")
    confirmed = False
    for _ in range(ATTEMPTS):
        write = plan(stored, report, finishes, book_id)
        if write is None and not confirmed:
            # "Changes nothing" is the one answer a stale read can get wrong: the progress may
            # have been deleted a moment ago, and the report must then start it again. A late
            # report is rare; it pays for one consistent read, still no write.
            stored = calls.call("get_item", TableName=table, Key=key, ConsistentRead=True).get(
                "Item"
            )
            confirmed = True
            continue
        if write is None:
            assert stored is not None
            return ProgressWrite(item_to_progress(stored), applied=False)
        try:
            item = calls.call(
                "update_item",
                TableName=table,
                Key=key,
                UpdateExpression=write.update,
                ConditionExpression=write.condition,
                ExpressionAttributeValues=write.values,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )["Attributes"]
        except ConditionFailed as failed:
            stored = failed.item or None
            continue
        return ProgressWrite(item_to_progress(item), applied=write.applied)
    raise RepositoryBusy()
