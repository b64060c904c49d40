"""The operator-database benchmark's pieces: the accounts it adds and its section of the docs."""

from __future__ import annotations

import sqlite3

from deploy.bench import opsdb as bench_opsdb


def test_accounts_are_added_to_a_migrated_file(tmp_path):
    template = tmp_path / "template.sqlite3"
    db = sqlite3.connect(template)
    db.execute(
        "CREATE TABLE auth_user (id INTEGER PRIMARY KEY, password TEXT, is_superuser BOOL, "
        "username TEXT UNIQUE, first_name TEXT, last_name TEXT, email TEXT, is_staff BOOL, "
        "is_active BOOL, date_joined TEXT)"
    )
    db.close()
    filled = bench_opsdb.with_accounts(template, tmp_path / "filled.sqlite3", 1500)
    db = sqlite3.connect(filled)
    assert db.execute("SELECT count(*), min(length(password)) FROM auth_user").fetchone() == (
        1500,
        len(bench_opsdb.HASH),
    )
    db.close()
    assert filled.stat().st_size > template.stat().st_size


def test_the_docs_section_is_replaced_not_repeated(tmp_path):
    rows = [
        {"accounts": 1000, "bytes": 350_000, "download": 0.04, "publish": 0.03},
        {"accounts": 100_000, "bytes": 19_500_000, "download": 0.3, "publish": 0.8},
    ]
    docs = tmp_path / "performance.md"
    docs.write_text("# Performance\n\nbefore\n")
    bench_opsdb.update_docs(bench_opsdb.section(rows), docs)
    bench_opsdb.update_docs(bench_opsdb.section(rows), docs)
    text = docs.read_text()
    assert text.startswith("# Performance\n\nbefore\n")
    assert text.count(bench_opsdb.BEGIN) == 1
    assert "| 100,000 | 18.60 MB | 300 ms | 800 ms | 372 ms |" in text
    assert "about 193 bytes per account" in text
