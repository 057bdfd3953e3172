"""Moodle's SOAP messages (rpc/encoded, as PHP's SoapClient and SoapServer write them), pure: no I/O.

Requests carry the function's parameters as parts named after them, in signature order. Structures go
as ``ns2:Map`` (ns2 = ``http://xml.apache.org/xml-soap``) of ``item``/``key``/``value``, lists as
``SOAP-ENC:Array`` with ``SOAP-ENC:arrayType``, scalars typed ``xsd:int``/``xsd:string``/
``xsd:boolean``/``xsd:double``; every prefix is declared on the envelope. Answers use the same
encoding, except where Moodle's WSDL types a structure (the top-level result, structures inside it):
there it is an element per key, with ``xsi:nil`` for keys the result did not have and ``xsd:int`` for
booleans. :func:`decode_response`, given the function, turns either back into exactly what the REST
JSON gives (see the module tests, which compare with real REST samples).

Two behaviours of a real Moodle 4.5 shape the requests (both checked against one):
- a parameter left out reaches the function as ``null``, not as its default (so an omitted list fails
  with ``invalidparameter`` and an omitted ``addsubcategories`` turns false): :func:`encode_request`
  sends every top-level parameter the caller left out with its declared default (lists: empty);
- an empty ``ns2:Map`` arrives as ``null``: an empty structure is sent as an empty array.
``false`` is sent as ``xsd:boolean`` only where the signature says PARAM_BOOL: Moodle rejects PHP's
``false`` for an int or text parameter (its string form is ``""``), so elsewhere booleans go as 0/1,
as the REST transport sends them.

The server halves (:func:`decode_request`, :func:`encode_response`, :func:`encode_fault`) serve the
sandbox's fake Moodle.
"""

from __future__ import annotations

import base64
import math
import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree

from .signatures import load_signatures

__all__ = [
    "SoapCodecError",
    "SoapFault",
    "decode_fault",
    "decode_request",
    "decode_response",
    "encode_fault",
    "encode_request",
    "encode_response",
    "find_fault",
    "moodle_error_from_fault",
]

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP_ENC = "http://schemas.xmlsoap.org/soap/encoding/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSD = "http://www.w3.org/2001/XMLSchema"
APACHE = "http://xml.apache.org/xml-soap"

_NIL = f"{{{XSI}}}nil"
_TYPE = f"{{{XSI}}}type"
_ARRAY_TYPE = f"{{{SOAP_ENC}}}arrayType"
_ENCODING_STYLE = f"{{{SOAP_ENV}}}encodingStyle"

_INT_TYPES = {"int", "integer", "long", "short", "byte", "nonNegativeInteger", "nonPositiveInteger",
              "positiveInteger", "negativeInteger", "unsignedLong", "unsignedInt", "unsignedShort",
              "unsignedByte"}
_FLOAT_TYPES = {"double", "float", "decimal"}
_BOOL_PARAM = {"bool", "boolean"}
_INT_PARAM = {"int", "integer"}
_FLOAT_PARAM = {"float", "localisedfloat"}
# XML Schema 2001 and the drafts PHP and older stacks still write, and SOAP-ENC's typed scalars.
_SCALAR_NAMESPACES = {XSD, "http://www.w3.org/1999/XMLSchema", "http://www.w3.org/2000/10/XMLSchema",
                      SOAP_ENC}


class SoapCodecError(ValueError):
    """A value cannot be put into a SOAP message, or a body is not a SOAP message we understand."""


@dataclass(frozen=True)
class SoapFault:
    """A ``SOAP-ENV:Fault``: code, string, and Moodle's actor (its errorcode) and detail (debuginfo)."""

    code: str
    string: str
    actor: str | None = None
    detail: str | None = None


# ----------------------------------------------------------------------------------------- requests
def encode_request(function: str, params: Mapping[str, Any], namespace: str) -> bytes:
    """The envelope calling ``function`` with ``params`` (Python values, as for REST).

    Top-level parameters follow the order of the function's Moodle 4.5 signature; those the caller
    left out (or gave as ``None``) are sent with their declared default, lists and structures as empty
    arrays; required ones are left out. Keys the signature does not know are sent last, as given.
    Nested ``None`` values are left out, as REST leaves them out. Raises :class:`SoapCodecError` for a
    string XML cannot carry (control characters).
    """
    desc = _parameters_desc(function)
    keys: dict[str, Any] = desc["keys"] if desc else {}
    envelope, body = _envelope(namespace)
    call = etree.SubElement(body, f"{{{namespace}}}{function}")
    for name, sub in keys.items():
        value = params.get(name)
        if value is None:
            if sub.get("required") == "required":
                continue
            value = _default(sub)
        _encode_typed_part(call, name, value, sub)
    for name, value in params.items():
        if name not in keys and value is not None:
            _encode_typed_part(call, str(name), value, None)
    return _serialize(envelope)


def _parameters_desc(function: str) -> dict[str, Any] | None:
    sig = load_signatures().get(function)
    return sig["parameters_desc"] if sig else None


def _default(desc: Mapping[str, Any]) -> Any:
    if desc.get("kind") in ("multiple_structure", "single_structure"):
        return []
    return desc.get("default")


def _encode_typed_part(parent: etree._Element, name: str, value: Any, desc: Mapping[str, Any] | None) -> None:
    """A top-level part: typed like the WSDL part (booleans as ``xsd:int``), ``None`` as nil."""
    if value is None:
        etree.SubElement(parent, name, {_NIL: "true"})
    elif isinstance(value, bool):
        _scalar(parent, name, "xsd:int", "1" if value else "0")
    else:
        _encode_value(parent, name, value, desc)


def _encode_value(parent: etree._Element, tag: str, value: Any, desc: Mapping[str, Any] | None) -> None:
    if isinstance(value, Mapping):
        entries = [(str(k), v) for k, v in value.items() if v is not None]
        if not entries:  # PHP reads an empty Map as null; an empty array is array()
            _array(parent, tag)
            return
        keys = desc.get("keys", {}) if desc and desc.get("kind") == "single_structure" else {}
        node = etree.SubElement(parent, tag, {_TYPE: "ns2:Map"})
        for key, sub_value in entries:
            item = etree.SubElement(node, "item")
            _scalar(item, "key", "xsd:string", key)
            _encode_value(item, "value", sub_value, keys.get(key))
    elif isinstance(value, (list, tuple)):
        content = desc.get("content") if desc and desc.get("kind") == "multiple_structure" else None
        node = _array(parent, tag)
        for item in value:
            if item is not None:
                _encode_value(node, "item", item, content)
        _set_array_type(node)
    elif isinstance(value, bool):
        if desc is not None and desc.get("type") in _BOOL_PARAM:
            _scalar(parent, tag, "xsd:boolean", "true" if value else "false")
        else:
            _scalar(parent, tag, "xsd:int", "1" if value else "0")
    else:
        xsd_type, text = _scalar_of(value)
        _scalar(parent, tag, xsd_type, text)


def _scalar_of(value: Any) -> tuple[str, str]:
    """The ``xsi:type`` and text of a Python scalar, as PHP types its own values."""
    if isinstance(value, bool):
        return "xsd:boolean", "true" if value else "false"
    if isinstance(value, int):
        return "xsd:int", str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "xsd:double", "NAN"
        if math.isinf(value):
            return "xsd:double", "INF" if value > 0 else "-INF"
        return "xsd:double", repr(value)
    return "xsd:string", str(value)


def _set_array_type(node: etree._Element) -> None:
    """The ``arrayType`` PHP writes: the items' type when they all share one, else ``xsd:ur-type``."""
    types = {item.get(_TYPE) for item in node}
    item_type = types.pop() if len(types) == 1 and None not in types else "xsd:ur-type"
    node.set(_ARRAY_TYPE, f"{item_type}[{len(node)}]")


def _scalar(parent: etree._Element, tag: str, xsd_type: str, text: str) -> etree._Element:
    node = etree.SubElement(parent, tag, {_TYPE: xsd_type})
    try:
        node.text = text
    except ValueError as exc:
        raise SoapCodecError(f"{tag}: {exc}") from None
    return node


def _array(parent: etree._Element, tag: str) -> etree._Element:
    """An empty ``SOAP-ENC:Array``; :func:`_set_array_type` completes it once it has its items."""
    return etree.SubElement(parent, tag, {_ARRAY_TYPE: "xsd:ur-type[0]", _TYPE: "SOAP-ENC:Array"})


def _envelope(namespace: str) -> tuple[etree._Element, etree._Element]:
    nsmap = {"SOAP-ENV": SOAP_ENV, "ns1": namespace, "ns2": APACHE, "SOAP-ENC": SOAP_ENC, "xsi": XSI,
             "xsd": XSD}
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", {_ENCODING_STYLE: SOAP_ENC}, nsmap=nsmap)
    return envelope, etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body")


def _serialize(envelope: etree._Element) -> bytes:
    """The document as PHP's SoapClient/SoapServer write it: declaration, newline, one line of XML."""
    xml = etree.tostring(envelope, encoding="UTF-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + xml + b"\n"


# ---------------------------------------------------------------------------------------- answers
def decode_response(body: bytes, function: str | None = None) -> Any:
    """The result in an answer envelope, as the REST JSON gives it.

    Maps become dicts, arrays lists, scalars ``int``/``str``/``bool``/``float``/``None`` by their
    ``xsi:type``. Given ``function`` (a Moodle 4.5 function), its declared result shape corrects what
    the WSDL typing changes: booleans in typed structures become ``bool`` again, and ``xsi:nil`` keys
    that are optional in the signature are dropped (REST leaves out keys a result does not have). An
    empty body or response element is ``None`` (functions that return nothing). Raises
    :class:`SoapCodecError` for a fault or a body that is not such an envelope.
    """
    if not body.strip():
        return None
    root = _parse(body)
    soap_body = _body_of(root)
    if soap_body.find(f"{{{SOAP_ENV}}}Fault") is not None:
        raise SoapCodecError("the answer is a SOAP fault")
    response = _first_child(soap_body)
    if response is None:
        return None
    part = _first_child(response)
    if part is None:
        return None
    sig = load_signatures().get(function) if function else None
    return _Decoder(root).decode(part, sig["returns_desc"] if sig else None)


def find_fault(body: bytes) -> SoapFault | None:
    """The fault in ``body``, or ``None`` when it holds none. Raises :class:`SoapCodecError` for non-SOAP."""
    node = _body_of(_parse(body)).find(f"{{{SOAP_ENV}}}Fault")
    if node is None:
        return None

    def text(tag: str) -> str | None:
        child = node.find(tag)
        return None if child is None else "".join(child.itertext()).strip()

    return SoapFault(text("faultcode") or "", text("faultstring") or "", text("faultactor") or None,
                     text("detail") or None)


def decode_fault(body: bytes) -> tuple[str, str]:
    """``(faultcode, faultstring)`` of the fault in ``body``; :class:`SoapCodecError` if there is none."""
    fault = find_fault(body)
    if fault is None:
        raise SoapCodecError("the body holds no SOAP fault")
    return fault.code, fault.string


_ERRORCODE = " | ERRORCODE: "
_NOT_PRESENT = re.compile(r"Procedure '[^']*' not present")
# Failures before the call (token, user, site) come as HTTP 200 with the message alone, followed by
# " - debuginfo" when the site debugs. Matched on Moodle's English strings.
_EARLY_FAULTS = [
    ("Invalid token", "invalidtoken", "core\\exception\\moodle_exception"),
    ("Access control exception", "accessexception", "webservice_access_exception"),
    ("Refused web service access for suspended username", "wsaccessusersuspended", None),
    ("Refused web service access for deleted username", "wsaccessuserdeleted", None),
    ("Refused web service access for unconfirmed username", "wsaccessuserunconfirmed", None),
    ("Refused web service access for nologin authentication username", "wsaccessusernologin", None),
    ("Refused web service access for password expired username", "wsaccessuserexpired", None),
    ("This site is undergoing maintenance", "sitemaintenance", None),
]


def moodle_error_from_fault(fault: SoapFault) -> dict[str, Any]:
    """Moodle's error body ``{exception, errorcode, message, debuginfo}`` for a SOAP fault.

    ``"MESSAGE | ERRORCODE: CODE"`` (a failed call; MESSAGE is "Unknown error" unless the site debugs)
    gives CODE, with the fault's detail as debuginfo. "Procedure 'f' not present" (the function is not
    in the token's service) gives ``accessexception``; "Missing parameter" gives ``invalidparameter``;
    the token and user failures Moodle sends before the call get their errorcode from the message.
    Anything else is errorcode ``soapfault`` with the fault's text.
    """
    string = fault.string
    if _ERRORCODE in string:
        message, _, errorcode = string.partition(_ERRORCODE)
        return _error(None, errorcode.strip() or (fault.actor or ""), message, fault.detail)
    if _NOT_PRESENT.fullmatch(string):
        return _error("webservice_access_exception", "accessexception", "Access control exception", string)
    if string == "Missing parameter":
        return _error("core\\exception\\invalid_parameter_exception", "invalidparameter",
                      "Invalid parameter value detected", string)
    for prefix, errorcode, exception in _EARLY_FAULTS:
        if string.startswith(prefix):
            message = string
            debuginfo = None
            if errorcode == "accessexception" and string.startswith(prefix + " - "):
                message, debuginfo = prefix, string[len(prefix) + 3:]
            return _error(exception, errorcode, message, debuginfo)
    return _error(None, "soapfault", f"{fault.code}: {string}" if fault.code else string, fault.detail)


def _error(exception: str | None, errorcode: str, message: str, debuginfo: str | None) -> dict[str, Any]:
    return {"exception": exception, "errorcode": errorcode, "message": message, "debuginfo": debuginfo}


# ---------------------------------------------------------------------------------------- decoding
_PARSERS = threading.local()  # lxml parsers must not be shared between threads


def _parser() -> etree.XMLParser:
    parser = getattr(_PARSERS, "parser", None)
    if parser is None:
        parser = _PARSERS.parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                                                   huge_tree=False, remove_comments=True, remove_pis=True)
    return parser


def _parse(body: bytes) -> etree._Element:
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError as exc:
        raise SoapCodecError(f"not XML: {exc}") from None
    if root is None or root.tag != f"{{{SOAP_ENV}}}Envelope":
        raise SoapCodecError("not a SOAP 1.1 envelope")
    return root


def _body_of(root: etree._Element) -> etree._Element:
    body = root.find(f"{{{SOAP_ENV}}}Body")
    if body is None:
        raise SoapCodecError("the envelope has no Body")
    return body


def _children(node: etree._Element) -> Iterator[etree._Element]:
    return (child for child in node if isinstance(child.tag, str))


def _first_child(node: etree._Element) -> etree._Element | None:
    return next(_children(node), None)


def _local(tag: str) -> str:
    return etree.QName(tag).localname


def _xsi_type(node: etree._Element) -> tuple[str | None, str] | None:
    value = node.get(_TYPE)
    return _resolve(node, value) if value else None


def _resolve(node: etree._Element, qname: str) -> tuple[str | None, str]:
    prefix, _, local = qname.rpartition(":")
    return node.nsmap.get(prefix or None), local


class _Decoder:
    """Decodes encoded values, following ``href`` references to ``id``-carrying elements."""

    def __init__(self, root: etree._Element) -> None:
        self._ids = {node.get("id"): node for node in root.iter()
                     if isinstance(node.tag, str) and node.get("id")}
        self._following: set[str] = set()

    def decode(self, node: etree._Element, desc: Mapping[str, Any] | None,
               default_type: tuple[str | None, str] | None = None) -> Any:
        href = node.get("href")
        if href and href.startswith("#") and href[1:] in self._ids:
            if href in self._following:
                raise SoapCodecError(f"the reference {href} contains itself")
            self._following.add(href)
            try:
                return self.decode(self._ids[href[1:]], desc, default_type)
            finally:
                self._following.discard(href)
        if node.get(_NIL) in ("true", "1"):
            return None
        wire = _xsi_type(node) or default_type
        if wire == (SOAP_ENC, "Array") or (wire is None and node.get(_ARRAY_TYPE)):
            return self._array(node, desc)
        if wire == (APACHE, "Map"):
            return self._map(node, desc)
        children = list(_children(node))
        if wire is not None and wire[0] in _SCALAR_NAMESPACES and wire[1] != "Struct":
            return _conform(_scalar_value(wire[1], node.text or ""), desc)
        if wire is None and not children:
            return _conform(node.text or "", desc)
        return self._struct(children, desc)  # a WSDL-typed structure (or SOAP-ENC:Struct)

    def _array(self, node: etree._Element, desc: Mapping[str, Any] | None) -> list[Any]:
        content = desc.get("content") if desc and desc.get("kind") == "multiple_structure" else None
        item_type = None
        array_type = node.get(_ARRAY_TYPE)
        if array_type and "[" in array_type:
            item_type = _resolve(node, array_type[:array_type.index("[")])
            if item_type in ((XSD, "ur-type"), (XSD, "anyType")):
                item_type = None
        return [self.decode(child, content, item_type) for child in _children(node)]

    def _map(self, node: etree._Element, desc: Mapping[str, Any] | None) -> dict[str, Any]:
        keys = desc.get("keys", {}) if desc and desc.get("kind") == "single_structure" else {}
        result: dict[str, Any] = {}
        for item in _children(node):
            key_node, value_node = item.find("key"), item.find("value")
            if key_node is None or value_node is None:
                raise SoapCodecError("a Map item without key or value")
            key = str(self.decode(key_node, None))
            result[key] = self.decode(value_node, keys.get(key))
        return result

    def _struct(self, children: list[etree._Element], desc: Mapping[str, Any] | None) -> dict[str, Any]:
        keys = desc.get("keys", {}) if desc and desc.get("kind") == "single_structure" else {}
        result: dict[str, Any] = {}
        for child in children:
            name = _local(child.tag)
            sub = keys.get(name)
            if child.get(_NIL) in ("true", "1") and sub is not None and sub.get("required") == "optional":
                continue  # a key the result did not have: REST leaves it out
            result[name] = self.decode(child, sub)
        return result


_SPECIAL_FLOATS = {"INF": math.inf, "-INF": -math.inf, "NAN": math.nan, "NaN": math.nan}


def _scalar_value(xsd_type: str, text: str) -> Any:
    try:
        if xsd_type in _INT_TYPES:
            return int(text.strip())
        if xsd_type in _FLOAT_TYPES:
            return _SPECIAL_FLOATS.get(text.strip()) or float(text)
        if xsd_type == "boolean":
            return text.strip().lower() in ("true", "1")
        if xsd_type in ("base64Binary", "base64"):
            return base64.b64decode(text).decode("utf-8", "replace")
    except ValueError as exc:
        raise SoapCodecError(f"bad {xsd_type} value {text[:40]!r}: {exc}") from None
    return text


def _conform(value: Any, desc: Mapping[str, Any] | None) -> Any:
    """What REST gives for a value the WSDL typed differently: PARAM_BOOL travels as ``xsd:int``."""
    if desc is not None and desc.get("type") in _BOOL_PARAM and value in (0, 1, "0", "1") \
            and not isinstance(value, bool):
        return bool(int(value))
    return value


# ------------------------------------------------------------------------------------ server side
def decode_request(body: bytes) -> tuple[str, dict[str, Any]]:
    """``(function, params)`` of a request envelope, values decoded by their own types (as PHP does).

    Raises :class:`SoapCodecError` for a body that is not a SOAP call.
    """
    root = _parse(body)
    call = _first_child(_body_of(root))
    if call is None:
        raise SoapCodecError("the Body holds no call")
    decoder = _Decoder(root)
    return _local(call.tag), {_local(part.tag): decoder.decode(part, None) for part in _children(call)}


def encode_response(function: str, result: Any, namespace: str) -> bytes:
    """The answer envelope PHP's SoapServer writes for ``result`` under Moodle's WSDL.

    Structures the signature declares at the top (and structures inside those) become an element per
    key (``SOAP-ENC:Struct``), with ``xsi:nil`` for missing keys and ``xsd:int`` for booleans; lists and
    everything inside them are typed by value (Maps, Arrays, scalars). A function without a declared
    result gets an empty response element.
    """
    sig = load_signatures().get(function)
    returns = sig["returns_desc"] if sig else None
    envelope, body = _envelope(namespace)
    response = etree.SubElement(body, f"{{{namespace}}}{function}Response")
    if returns is not None or result is not None:
        _encode_result(response, "return", result, returns)
    return _serialize(envelope)


def _encode_result(parent: etree._Element, tag: str, value: Any, desc: Mapping[str, Any] | None) -> None:
    if value is None:
        etree.SubElement(parent, tag, {_NIL: "true"})
    elif desc is None or isinstance(value, (list, tuple)) or desc.get("kind") == "multiple_structure":
        _encode_untyped(parent, tag, value)
    elif desc.get("kind") == "single_structure" and isinstance(value, Mapping):
        node = etree.SubElement(parent, tag, {_TYPE: "SOAP-ENC:Struct"})
        for key, sub in desc["keys"].items():
            _encode_result(node, key, value.get(key), sub)
    elif isinstance(value, Mapping):
        _encode_untyped(parent, tag, value)
    else:
        ptype = desc.get("type")
        if (ptype in _BOOL_PARAM or ptype in _INT_PARAM) and isinstance(value, (bool, int, float)):
            _scalar(parent, tag, "xsd:int", str(int(value)))
        elif ptype in _FLOAT_PARAM and isinstance(value, (bool, int, float)):
            _scalar(parent, tag, *_scalar_of(float(value)))
        elif ptype in _BOOL_PARAM | _INT_PARAM | _FLOAT_PARAM:
            _scalar(parent, tag, *_scalar_of(value))  # not a number: let the client see what it is
        else:
            _scalar(parent, tag, "xsd:string", _php_string(value))


def _encode_untyped(parent: etree._Element, tag: str, value: Any) -> None:
    """A value where the WSDL says nothing: typed by what it is, as PHP types its values."""
    if value is None:
        etree.SubElement(parent, tag, {_NIL: "true"})
    elif isinstance(value, Mapping) and value:
        node = etree.SubElement(parent, tag, {_TYPE: "ns2:Map"})
        for key, sub_value in value.items():
            item = etree.SubElement(node, "item")
            _scalar(item, "key", *_scalar_of(key))
            _encode_untyped(item, "value", sub_value)
    elif isinstance(value, (Mapping, list, tuple)):
        node = _array(parent, tag)
        for item in value:  # an empty Mapping is an empty PHP array
            _encode_untyped(node, "item", item)
        _set_array_type(node)
    else:
        _scalar(parent, tag, *_scalar_of(value))


def _php_string(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def encode_fault(faultcode: str, faultstring: str, *, actor: str | None = None,
                 detail: str | None = None) -> bytes:
    """A fault envelope as Moodle writes it (actor: the errorcode; detail: the debuginfo)."""
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"SOAP-ENV": SOAP_ENV})
    fault = etree.SubElement(etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body"), f"{{{SOAP_ENV}}}Fault")
    for tag, text in (("faultcode", faultcode), ("faultstring", faultstring), ("faultactor", actor),
                      ("detail", detail)):
        if text is not None:
            _text_child(fault, tag, text)
    return _serialize(envelope)


_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _text_child(parent: etree._Element, tag: str, text: str) -> None:
    etree.SubElement(parent, tag).text = _XML_INVALID.sub("?", text)
