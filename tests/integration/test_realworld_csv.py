"""The real-world CSV cases (issue 8), each through the live path: upload to SeaweedFS,
POST a MinIO-shaped webhook, process, read the audit row. Inputs are inlined byte for
byte from each case's ``input.csv``; the asserted values are its ``expected.json``."""

from __future__ import annotations

import dataclasses
import gzip
import io
from typing import Any

from psycopg.rows import dict_row

from notifier.config import parse_csv_dialects
from notifier.processing import Processor
from notifier.storage import ObjectStore, make_client
from tests.support import minio_body, record_for_stat

POWERSHELL_UTF16 = (
    "\ufeffhost,events,label\r\nws-01,12,normal\r\nws-02,3400,beaconing\r\nws-03,7,normal\r\n"
).encode("utf-16-le")
"""csv-nul-in-reason-crash-utf16/input.csv: UTF-16LE with BOM and CRLF, as PowerShell
5.1's ``Out-File`` writes."""

EXCEL_ES = (
    b"fecha;ip_origen;bytes;duracion_s;etiqueta\r\n"
    b"2024-03-01;192.0.2.10;1532;0,25;normal\r\n"
    b"2024-03-01;192.0.2.11;88;1,5;escaneo\r\n"
    b"2024-03-02;192.0.2.12;4096;12;normal\r\n"
)
"""excel-es-semicolon-decimal-comma/input.csv."""

UNSW_HEADERLESS = (
    b"192.0.2.10,1390,198.51.100.6,53,udp,CON,0.001055,132,164,31,29,0,0,dns,500473.9375,"
    b"621800.9375,2,2,0,0\n"
    b"192.0.2.10,33661,198.51.100.9,1024,udp,CON,0.036133,528,304,31,29,0,0,-,87676.08594,"
    b"50480.17188,4,4,0,1\n"
    b"192.0.2.11,1464,198.51.100.7,53,udp,CON,0.001119,146,178,31,29,0,0,dns,521894.5313,"
    b"636282.375,2,2,0,0\n"
    b"192.0.2.12,3593,198.51.100.5,53,udp,CON,0.001209,132,164,31,29,0,0,dns,436724.5625,"
    b"542597.1875,2,2,0,0\n"
)
"""headerless-csv-off-by-one/input.csv (UNSW-NB15_1.csv ships without a header)."""

TRAILING_SPACES = (
    b"src_ip,dst_port,label\n192.0.2.1,22,ssh_bruteforce\n192.0.2.2,80,normal\n"
    b"192.0.2.3,443,normal\n   \n"
)
"""csv-trailing-whitespace-line/input.csv."""

FLOWS = b"Flow ID,Src IP,Label\n1,192.0.2.1,BENIGN\n2,192.0.2.2,DDoS\n3,192.0.2.3,BENIGN\n"
"""csv-gz-with-content-encoding-gzip/input.csv.gz, decompressed."""


def upload_and_process(
    client: Any,
    auth: dict[str, str],
    s3_client: Any,
    processor: Processor,
    bucket: str,
    key: str,
    data: bytes,
) -> None:
    s3_client.put_object(bucket, key, io.BytesIO(data), len(data), content_type="text/csv")
    record = record_for_stat(s3_client, bucket, key)
    response = client.post("/events", data=minio_body(record), headers=auth)
    assert response.status_code == 200, response.json
    assert processor.drain() == 1


def only_row(db: Any, key: str) -> dict[str, Any]:
    db.row_factory = dict_row
    (row,) = db.execute("SELECT * FROM ingestion_events WHERE object_key = %s", (key,)).fetchall()
    result: dict[str, Any] = row
    return result


def test_utf16_powershell_csv_is_counted(client, auth, s3_client, buckets, processor, db):
    key = "win/hosts_powershell.csv"
    upload_and_process(client, auth, s3_client, processor, buckets.raw, key, POWERSHELL_UTF16)
    row = only_row(db, key)
    assert (row["num_registros"], row["estado"], row["reason"]) == (3, "ok", None)
    assert row["details"]["columns"] == ["host", "events", "label"]
    assert row["details"]["dialect"]["encoding"] == "utf-16-le"
    (event,) = db.execute("SELECT status, attempts FROM intake_events").fetchall()
    assert (event["status"], event["attempts"]) == ("done", 1)


def test_excel_semicolon_decimal_comma_is_counted(client, auth, s3_client, buckets, processor, db):
    key = "excel/conexiones_marzo.csv"
    upload_and_process(client, auth, s3_client, processor, buckets.raw, key, EXCEL_ES)
    row = only_row(db, key)
    assert (row["num_registros"], row["estado"]) == (3, "ok")
    assert row["details"]["dialect"]["delimiter"] == ";"
    assert row["details"]["columns"] == ["fecha", "ip_origen", "bytes", "duracion_s", "etiqueta"]


def test_headerless_csv_counts_every_line(client, auth, s3_client, buckets, processor, db):
    key = "unsw/UNSW-NB15_1.csv"
    upload_and_process(client, auth, s3_client, processor, buckets.raw, key, UNSW_HEADERLESS)
    row = only_row(db, key)
    assert (row["num_registros"], row["estado"]) == (4, "ok")
    assert "columns" not in row["details"]
    assert row["details"]["num_columns"] == 20
    assert row["details"]["dialect"]["header"] == "absent"


def test_trailing_whitespace_line_is_not_a_record(client, auth, s3_client, buckets, processor, db):
    key = "misc/trailing_space_line.csv"
    upload_and_process(client, auth, s3_client, processor, buckets.raw, key, TRAILING_SPACES)
    row = only_row(db, key)
    assert (row["num_registros"], row["estado"]) == (3, "ok")


def test_gzipped_csv_is_counted_with_its_columns(client, auth, s3_client, buckets, processor, db):
    # The CSV side of csv-gz-with-content-encoding-gzip; the Content-Encoding transport
    # (the SDK inflating the body) is storage's, tested there.
    key = "gz/flows.csv.gz"
    upload_and_process(client, auth, s3_client, processor, buckets.raw, key, gzip.compress(FLOWS))
    row = only_row(db, key)
    assert (row["num_registros"], row["estado"], row["format"]) == (3, "ok", "csv")
    details = {k: v for k, v in row["details"].items() if k != "dialect"}
    assert details == {
        "columns": ["Flow ID", "Src IP", "Label"],
        "num_columns": 3,
        "compression": "gzip",
    }


def test_override_setting_reaches_the_worker(client, auth, s3_client, buckets, settings, pool, db):
    rules = parse_csv_dialects(f"{buckets.raw}/names/=header:absent,delimiter:pipe")
    processor = Processor(
        dataclasses.replace(settings, csv_dialects=rules),
        pool,
        ObjectStore(make_client(settings.s3)),
    )
    data = b"ana|lima\nluis|quito\neva|cusco\n"
    upload_and_process(client, auth, s3_client, processor, buckets.raw, "names/p1.csv", data)
    upload_and_process(client, auth, s3_client, processor, buckets.raw, "other/p1.csv", data)
    configured, detected = only_row(db, "names/p1.csv"), only_row(db, "other/p1.csv")
    assert (configured["num_registros"], detected["num_registros"]) == (3, 2)
    assert configured["details"]["dialect"]["configured"] == ["delimiter", "header"]
    assert detected["details"]["columns"] == ["ana", "lima"]
