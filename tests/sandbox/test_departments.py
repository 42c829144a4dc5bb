"""Department (QBO's "location"): created, queried by name, and checked where a record names it."""

from __future__ import annotations

from tests.sandbox.conftest import Api
from tests.sandbox.conftest import bill_body


def test_department_is_created_nested_and_queryable(api: Api) -> None:
    north = api.post("department", {"Name": "North"})
    assert north.status_code == 200, north.text
    parent = north.json()["Department"]
    child = api.post("department", {"Name": "Yard", "ParentRef": {"value": parent["Id"]}})
    assert child.status_code == 200, child.text
    assert child.json()["Department"]["FullyQualifiedName"] == "North:Yard"
    found = api.query("select * from Department where Name = 'Yard'")["Department"]
    assert [(d["Name"], d["SubDepartment"]) for d in found] == [("Yard", True)]


def test_bill_department_ref_must_exist(api: Api, book: dict[str, str]) -> None:
    resp = api.post("bill", bill_body(book, DepartmentRef={"value": "777777"}))
    assert resp.status_code == 400, resp.text
    err = resp.json()["Fault"]["Error"][0]
    assert (err["code"], err["element"]) == ("2500", "DepartmentRef")
    dept = api.post("department", {"Name": "South"}).json()["Department"]
    ok = api.post("bill", bill_body(book, DepartmentRef={"value": dept["Id"]}))
    assert ok.status_code == 200, ok.text
    assert ok.json()["Bill"]["DepartmentRef"]["value"] == dept["Id"]
