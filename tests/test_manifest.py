"""Structural checks of manifest.xml: what Office needs to sideload it in Word and Excel, and SSO's WebApplicationInfo.

Microsoft's online validator is unreachable from here and its XSDs are not published in a registry, so these tests pin
the parts of the schema the add-in relies on: element order, resource ids, lengths, https URLs, icons and their sizes.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "manifest.xml"
TEMPLATE = ROOT / "addin" / "manifest" / "manifest.template.xml"
ASSETS = ROOT / "addin" / "public" / "assets"
DEV_URL = "https://localhost:3000"
DEV_CLIENT_ID = "00000000-0000-0000-0000-000000000000"

NS = {
    "o": "http://schemas.microsoft.com/office/appforoffice/1.1",
    "ov": "http://schemas.microsoft.com/office/taskpaneappversionoverrides",
    "bt": "http://schemas.microsoft.com/office/officeappbasictypes/1.0",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
XSI_TYPE = f"{{{NS['xsi']}}}type"
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
# The order the OfficeApp schema's sequence demands for the elements this manifest uses.
BASE_ORDER = [
    "Id",
    "Version",
    "ProviderName",
    "DefaultLocale",
    "DisplayName",
    "Description",
    "IconUrl",
    "HighResolutionIconUrl",
    "SupportUrl",
    "AppDomains",
    "Hosts",
    "Requirements",
    "DefaultSettings",
    "Permissions",
    "VersionOverrides",
]


@pytest.fixture(scope="module")
def root() -> ET.Element:
    """The parsed manifest."""
    return ET.parse(MANIFEST).getroot()  # noqa: S314 - the repository's own file, not untrusted input


def local_name(element: ET.Element) -> str:
    """An element's tag without its namespace."""
    return element.tag.rsplit("}", 1)[-1]


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    return struct.unpack(">II", data[16:24])


def test_is_a_task_pane_app_for_word_and_excel(root):
    """Root type, id, version and both hosts in the base manifest."""
    assert root.tag == f"{{{NS['o']}}}OfficeApp"
    assert root.get(XSI_TYPE) == "TaskPaneApp"
    assert GUID.match(root.findtext("o:Id", namespaces=NS))
    assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+", root.findtext("o:Version", namespaces=NS))
    assert [h.get("Name") for h in root.findall("o:Hosts/o:Host", NS)] == ["Document", "Workbook"]
    assert root.findtext("o:Permissions", namespaces=NS) == "ReadWriteDocument"


def test_base_elements_follow_the_schema_order(root):
    """The schema is a sequence: an element out of order makes Office reject the manifest."""
    present = [local_name(child) for child in root if isinstance(child.tag, str)]
    assert present == [name for name in BASE_ORDER if name in present]
    assert {"Id", "Version", "ProviderName", "DefaultLocale", "DisplayName", "DefaultSettings"} <= set(present)


def test_text_lengths_fit_the_schema(root):
    """DisplayName and short strings up to 125 characters, Description and long strings up to 250."""
    assert len(root.find("o:DisplayName", NS).get("DefaultValue")) <= 125
    assert len(root.find("o:Description", NS).get("DefaultValue")) <= 250
    for string in root.iterfind(".//bt:ShortStrings/bt:String", NS):
        assert len(string.get("DefaultValue")) <= 125
    for string in root.iterfind(".//bt:LongStrings/bt:String", NS):
        assert len(string.get("DefaultValue")) <= 250


def test_every_resid_resolves_to_one_resource(root):
    """Each resid names a resource of the right kind; ids are unique and at most 32 characters."""
    resources = root.find("ov:VersionOverrides/ov:Resources", NS)
    kinds = {"Images": "bt:Images/bt:Image", "Urls": "bt:Urls/bt:Url", "Strings": "bt:*/bt:String"}
    ids = {kind: [e.get("id") for e in resources.iterfind(path, NS)] for kind, path in kinds.items()}
    all_ids = ids["Images"] + ids["Urls"] + ids["Strings"]
    assert len(all_ids) == len(set(all_ids))
    assert all(len(i) <= 32 for i in all_ids)
    overrides = root.find("ov:VersionOverrides", NS)
    referenced = [(local_name(e), e.get("resid")) for e in overrides.iter() if e.get("resid")]
    assert referenced
    for tag, resid in referenced:
        kind = {"Image": "Images", "SourceLocation": "Urls", "FunctionFile": "Urls", "LearnMoreUrl": "Urls"}.get(
            tag, "Strings"
        )
        assert resid in ids[kind], f"{tag} resid={resid} is not a {kind} resource"


def test_each_host_has_a_ribbon_button_that_opens_the_pane(root):
    """Word and Excel each get a Home-tab button showing the task pane."""
    hosts = root.findall("ov:VersionOverrides/ov:Hosts/ov:Host", NS)
    assert [h.get(XSI_TYPE) for h in hosts] == ["Document", "Workbook"]
    for host in hosts:
        surface = host.find("ov:DesktopFormFactor/ov:ExtensionPoint", NS)
        assert surface.get(XSI_TYPE) == "PrimaryCommandSurface"
        buttons = surface.findall(".//ov:Control", NS)
        assert [b.get(XSI_TYPE) for b in buttons] == ["Button"]
        action = buttons[0].find("ov:Action", NS)
        assert action.get(XSI_TYPE) == "ShowTaskpane"
        assert action.findtext("ov:TaskpaneId", namespaces=NS) == "Switchboard.Pane"
        assert {i.get("size") for i in buttons[0].iterfind("ov:Icon/bt:Image", NS)} == {"16", "32", "80"}


def test_urls_are_https_under_the_pane_origin_and_icons_exist_at_their_size(root):
    """Office loads only https; every icon the manifest names is shipped at the size it claims."""
    source = root.find("o:DefaultSettings/o:SourceLocation", NS).get("DefaultValue")
    origin = urlparse(source)
    assert origin.scheme == "https"
    urls = [e.get("DefaultValue") for e in root.iter() if local_name(e) in {"IconUrl", "HighResolutionIconUrl", "Url"}]
    urls += [e.get("DefaultValue") for e in root.iterfind(".//bt:Image", NS) if e.get("DefaultValue")]
    for url in urls:
        parsed = urlparse(url)
        assert (parsed.scheme, parsed.netloc) == ("https", origin.netloc), url
    sizes = {"IconUrl": 32, "HighResolutionIconUrl": 64}
    icons = [(root.find(f"o:{tag}", NS).get("DefaultValue"), size) for tag, size in sizes.items()]
    icons += [
        (e.get("DefaultValue"), int(e.get("id").split("x")[-1])) for e in root.iterfind(".//bt:Images/bt:Image", NS)
    ]
    for url, size in icons:
        assert png_size(ASSETS / Path(urlparse(url).path).name) == (size, size), url


def test_web_application_info_matches_the_pane_host(root):
    """SSO: the App ID URI is api://<pane host>/<client id>, and scopes are listed."""
    info = root.find("ov:VersionOverrides/ov:WebApplicationInfo", NS)
    client_id = info.findtext("ov:Id", namespaces=NS)
    assert GUID.match(client_id)
    host = urlparse(root.find("o:DefaultSettings/o:SourceLocation", NS).get("DefaultValue")).netloc
    assert info.findtext("ov:Resource", namespaces=NS) == f"api://{host}/{client_id}"
    assert [s.text for s in info.iterfind("ov:Scopes/ov:Scope", NS)] == ["openid", "profile"]
    assert local_name(list(root.find("ov:VersionOverrides", NS))[-1]) == "WebApplicationInfo"


def test_committed_manifest_is_the_template_rendered_for_development():
    """manifest.xml is generated, never hand-edited: it equals the template filled with the dev values."""
    values = {
        "ADDIN_URL": DEV_URL,
        "ORIGIN": DEV_URL,
        "CLIENT_ID": DEV_CLIENT_ID,
        "APP_ID_URI": f"api://localhost:3000/{DEV_CLIENT_ID}",
    }
    rendered = re.sub(r"\{\{([A-Z_]+)\}\}", lambda m: values[m.group(1)], TEMPLATE.read_text())
    assert MANIFEST.read_text() == rendered


@pytest.mark.skipif(
    not (ROOT / "addin" / "node_modules" / ".bin" / "office-addin-manifest").exists() or not shutil.which("node"),
    reason="needs `npm ci` in addin/",
)
def test_office_addin_manifest_reads_it():
    """Microsoft's own tool parses the manifest (its online `validate` is unreachable here; `info` works offline)."""
    tool = ROOT / "addin" / "node_modules" / ".bin" / "office-addin-manifest"
    result = subprocess.run([str(tool), "info", str(MANIFEST)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Hosts: Document, Workbook" in result.stdout
    assert "Type: TaskPaneApp" in result.stdout
    assert "Error" not in result.stdout + result.stderr
