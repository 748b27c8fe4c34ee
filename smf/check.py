#!/usr/bin/env python3
"""Structural check of an SMF service manifest, for hosts without illumos' DTD.

    python3 smf/check.py [--generic] [MANIFEST]     (default: tern.xml beside this script)
    python3 smf/check.py --emit-dtd                 (print the DTD this checker enforces)

svccfg(8) validates a manifest against /usr/share/lib/xml/dtd/service_bundle.dtd.1, which
exists only on illumos. This script checks what that DTD requires, so that a broken
manifest is caught on Linux too:

* the DOCTYPE names the service_bundle DTD;
* every element is one the DTD declares, and its children come in the order and number
  the DTD's content model allows (inside <service>: create_default_instance?,
  single_instance?, restarter?, dependency*, dependent*, method_context?, exec_method*,
  property_group*, instance*, stability?, template?), with no stray text;
* every attribute is declared for its element, #REQUIRED ones are present, and enumerated
  ones have an allowed value.

The content models and attribute lists below are transcribed from the illumos-gate DTD
(usr/src/cmd/svc/dtd/service_bundle.dtd.1), xi:include aside. `--emit-dtd` prints them as a
DTD, so that `xmllint --dtdvalid` can check the same rules with libxml2's validator.

It then checks what svccfg import would refuse or svc.startd would fail on although the DTD
allows it: a manifest bundle, integer timeouts, propval values of their type, unique names,
start and stop methods. Unless --generic is given, it also checks the tern service's own
contract (service and instance names, methods, dependencies, privileges, properties, template).

Exits 0 if the manifest passes, 1 with one line per problem otherwise (2 on usage errors).
Python 3 standard library only.
"""

import os
import re
import sys
import xml.etree.ElementTree as ET

DOCTYPE_SYSTEM = "/usr/share/lib/xml/dtd/service_bundle.dtd.1"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

BOOL = ("true", "false")
PROP_TYPES = ("count", "integer", "opaque", "host", "hostname", "net_address_v4",
              "net_address_v6", "time", "astring", "ustring", "boolean", "fmri", "uri")
GROUPING = ("require_all", "require_any", "exclude_all", "optional_all")
RESTART_ON = ("error", "restart", "refresh", "none")
REQ = "#REQUIRED"
IMP = "#IMPLIED"

# Element name -> (content model in DTD syntax, {attribute: (type, default)}).
# A type is "CDATA" or a tuple of allowed values; a default is REQ, IMP or a value.
LISTS = [t + "_list" for t in PROP_TYPES]
ELEMENTS = {
    "stability": ("EMPTY", {
        "value": (("Standard", "Stable", "Evolving", "Unstable", "External", "Obsolete"), REQ)}),
    "value_node": ("EMPTY", {"value": ("CDATA", REQ)}),
    **{name: ("(value_node+)", {}) for name in LISTS},
    "property": ("(" + " | ".join(LISTS) + ")?", {
        "name": ("CDATA", REQ), "type": (PROP_TYPES, REQ), "override": (BOOL, "false")}),
    "propval": ("EMPTY", {
        "name": ("CDATA", REQ), "type": (PROP_TYPES, REQ), "value": ("CDATA", REQ),
        "override": (BOOL, "false")}),
    "property_group": ("(stability?, (propval | property)*)", {
        "name": ("CDATA", REQ), "type": ("CDATA", REQ), "delete": (BOOL, "false")}),
    "service_fmri": ("EMPTY", {"value": ("CDATA", REQ)}),
    "dependency": ("(service_fmri*, stability?, (propval | property)*)", {
        "name": ("CDATA", REQ), "grouping": (GROUPING, REQ), "restart_on": (RESTART_ON, REQ),
        "type": ("CDATA", REQ), "delete": (BOOL, "false")}),
    "dependent": ("(service_fmri, stability?, (propval | property)*)", {
        "name": ("CDATA", REQ), "grouping": (GROUPING, REQ), "restart_on": (RESTART_ON, REQ),
        "delete": (BOOL, "false"), "override": (BOOL, "false")}),
    "envvar": ("EMPTY", {"name": ("CDATA", REQ), "value": ("CDATA", REQ)}),
    "method_environment": ("(envvar+)", {}),
    "method_profile": ("EMPTY", {"name": ("CDATA", REQ)}),
    "method_credential": ("EMPTY", {
        "user": ("CDATA", REQ), "group": ("CDATA", IMP), "supp_groups": ("CDATA", IMP),
        "privileges": ("CDATA", IMP), "limit_privileges": ("CDATA", IMP)}),
    "method_context": ("((method_profile | method_credential)?, method_environment?)", {
        "working_directory": ("CDATA", IMP), "project": ("CDATA", IMP),
        "resource_pool": ("CDATA", IMP)}),
    "exec_method": ("(method_context?, stability?, (propval | property)*)", {
        "type": (("method", "monitor"), REQ), "name": ("CDATA", REQ), "exec": ("CDATA", REQ),
        "timeout_seconds": ("CDATA", REQ), "delete": (BOOL, "false")}),
    "restarter": ("(service_fmri)", {}),
    "doc_link": ("EMPTY", {"name": ("CDATA", REQ), "uri": ("CDATA", REQ)}),
    "manpage": ("EMPTY", {
        "title": ("CDATA", REQ), "section": ("CDATA", REQ), "manpath": ("CDATA", ":default")}),
    "documentation": ("(doc_link | manpage)*", {}),
    "loctext": ("(#PCDATA)", {"xml:lang": ("CDATA", REQ)}),
    "description": ("(loctext+)", {}),
    "common_name": ("(loctext+)", {}),
    "units": ("(loctext+)", {}),
    "visibility": ("EMPTY", {"value": (("hidden", "readonly", "readwrite"), REQ)}),
    "value": ("(common_name?, description?)", {"name": ("CDATA", REQ)}),
    "values": ("(value+)", {}),
    "cardinality": ("EMPTY", {"min": ("CDATA", "0"), "max": ("CDATA", "18446744073709551615")}),
    "internal_separators": ("(#PCDATA)", {}),
    "range": ("EMPTY", {"min": ("CDATA", REQ), "max": ("CDATA", REQ)}),
    "constraints": ("(value*, range*)", {}),
    "include_values": ("EMPTY", {"type": (("constraints", "values"), REQ)}),
    "choices": ("(value*, range*, include_values*)", {}),
    "prop_pattern": ("(common_name?, description?, units?, visibility?, cardinality?,"
                     " internal_separators?, values?, constraints?, choices?)", {
        "name": ("CDATA", REQ), "type": (PROP_TYPES, IMP), "required": (BOOL, "false")}),
    "pg_pattern": ("(common_name?, description?, prop_pattern*)", {
        "name": ("CDATA", ""), "type": ("CDATA", ""), "required": (BOOL, "false"),
        "target": (("this", "instance", "delegate", "all"), "this")}),
    "template": ("(common_name, description?, documentation?, pg_pattern*)", {}),
    "create_default_instance": ("EMPTY", {"enabled": (BOOL, REQ)}),
    "single_instance": ("EMPTY", {}),
    "instance": ("(restarter?, dependency*, dependent*, method_context?, exec_method*,"
                 " property_group*, template?)", {
        "name": ("CDATA", REQ), "enabled": (BOOL, REQ)}),
    "service": ("(create_default_instance?, single_instance?, restarter?, dependency*,"
                " dependent*, method_context?, exec_method*, property_group*, instance*,"
                " stability?, template?)", {
        "name": ("CDATA", REQ), "version": ("CDATA", REQ),
        "type": (("service", "restarter", "milestone"), REQ)}),
    # The DTD also allows xi:include children; this checker does not follow them.
    "service_bundle": ("(service_bundle* | service*)", {
        "type": ("CDATA", REQ), "name": ("CDATA", REQ)}),
}

_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_.:-]*|[(),|?*+]")


def model_regex(model):
    """Compiles a DTD element content model into a regex over 'child child ...' strings."""
    out = []
    for tok in _TOKEN.findall(model):
        if tok == ",":
            continue
        if tok in "()|?*+":
            out.append("(?:" if tok == "(" else tok)
        else:
            out.append("(?:" + re.escape(tok) + " )")
    return re.compile("".join(out))


MODELS = {name: (None if m in ("EMPTY", "(#PCDATA)") else model_regex(m))
          for name, (m, _) in ELEMENTS.items()}


def emit_dtd():
    lines = ["<!-- The rules smf/check.py enforces, transcribed from illumos'",
             "     service_bundle.dtd.1 (xi:include aside). Generated: do not edit. -->"]
    for name, (model, attrs) in ELEMENTS.items():
        lines.append("<!ELEMENT %s %s>" % (name, model))
        if attrs:
            parts = []
            for attr, (typ, default) in attrs.items():
                t = typ if typ == "CDATA" else "(" + " | ".join(typ) + ")"
                d = default if default in (REQ, IMP) else '"%s"' % default
                parts.append("\n\t%s %s %s" % (attr, t, d))
            lines.append("<!ATTLIST %s%s>" % (name, "".join(parts)))
    return "\n".join(lines) + "\n"


class Checker:
    def __init__(self, path):
        self.path = path
        self.problems = []

    def problem(self, where, message):
        self.problems.append("%s: %s: %s" % (self.path, where, message))

    # --- what the DTD requires --------------------------------------------------------

    def check_doctype(self, text):
        m = re.search(r"<!DOCTYPE\s+(\S+)\s+SYSTEM\s+(['\"])(.*?)\2\s*>", text)
        if not m:
            self.problem("DOCTYPE", 'missing <!DOCTYPE service_bundle SYSTEM "%s">'
                         % DOCTYPE_SYSTEM)
        elif m.group(1) != "service_bundle" or m.group(3) != DOCTYPE_SYSTEM:
            self.problem("DOCTYPE", 'is <!DOCTYPE %s SYSTEM "%s">, not <!DOCTYPE '
                         'service_bundle SYSTEM "%s">' % (m.group(1), m.group(3),
                                                          DOCTYPE_SYSTEM))

    def check_tree(self, elem, where):
        name = elem.tag
        where = "%s/%s%s" % (where, name, self.label(elem)) if where else name + self.label(elem)
        if name not in ELEMENTS:
            self.problem(where, "element <%s> is not in the service_bundle DTD" % name)
            return
        model, attrs = ELEMENTS[name]
        for raw in elem.attrib:
            attr = "xml:lang" if raw == XML_LANG else raw
            if attr not in attrs:
                self.problem(where, "attribute %s is not declared for <%s>" % (attr, name))
        for attr, (typ, default) in attrs.items():
            key = XML_LANG if attr == "xml:lang" else attr
            value = elem.get(key)
            if value is None:
                if default == REQ:
                    self.problem(where, "required attribute %s is missing" % attr)
                continue
            if typ != "CDATA" and value not in typ:
                self.problem(where, "%s=%r is not one of %s" % (attr, value, "|".join(typ)))
        children = list(elem)
        text_parts = [elem.text] + [c.tail for c in children]
        has_text = any(t and t.strip() for t in text_parts)
        if model == "EMPTY":
            if children or has_text:
                self.problem(where, "<%s> must be empty" % name)
        elif model == "(#PCDATA)":
            if children:
                self.problem(where, "<%s> may hold only text, not <%s>"
                             % (name, children[0].tag))
        else:
            if has_text:
                self.problem(where, "text is not allowed directly inside <%s>" % name)
            seq = "".join(c.tag + " " for c in children)
            if not MODELS[name].fullmatch(seq):
                self.problem(where, "children (%s) do not match the DTD's %s %s" % (
                    ", ".join(c.tag for c in children) or "none", name, model))
        for child in children:
            self.check_tree(child, where)

    @staticmethod
    def label(elem):
        n = elem.get("name")
        return "[%s]" % n if n is not None else ""

    # --- what svccfg import and svc.startd need beyond the DTD -----------------------

    def check_smf(self, root):
        if root.get("type") != "manifest":
            self.problem("service_bundle", "type=%r: a manifest must be type='manifest'"
                         % root.get("type"))
        services = root.findall("service")
        if not services:
            self.problem("service_bundle", "no <service>")
        for svc in services:
            sname = svc.get("name", "")
            where = "service[%s]" % sname
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_.,-]*(/[A-Za-z][A-Za-z0-9_.,-]*)*",
                                sname):
                self.problem(where, "%r is not a valid service name" % sname)
            if not re.fullmatch(r"[0-9]+", svc.get("version", "")):
                self.problem(where, "version=%r is not an integer" % svc.get("version"))
            self.unique(svc, where, "dependency")
            self.unique(svc, where, "dependent")
            self.unique(svc, where, "exec_method")
            self.unique(svc, where, "property_group")
            self.unique(svc, where, "instance")
            instances = svc.findall("instance")
            if not instances and svc.find("create_default_instance") is None:
                self.problem(where, "no <instance> and no <create_default_instance>")
            svc_methods = {m.get("name") for m in svc.findall("exec_method")}
            for inst in instances:
                iw = "%s/instance[%s]" % (where, inst.get("name"))
                for kind in ("dependency", "dependent", "exec_method", "property_group"):
                    self.unique(inst, iw, kind)
                methods = svc_methods | {m.get("name") for m in inst.findall("exec_method")}
                # svc.startd, the default restarter, needs both.
                if svc.find("restarter") is None and inst.find("restarter") is None:
                    for needed in ("start", "stop"):
                        if needed not in methods:
                            self.problem(iw, "no %s method (svc.startd needs start and stop)"
                                         % needed)
        for em in root.iter("exec_method"):
            t = em.get("timeout_seconds", "")
            if not re.fullmatch(r"-1|[0-9]+", t):
                self.problem("exec_method[%s]" % em.get("name"),
                             "timeout_seconds=%r is not an integer >= -1" % t)
            if not em.get("exec", "").strip():
                self.problem("exec_method[%s]" % em.get("name"), "empty exec")
        for pg in root.iter("property_group"):
            pw = "property_group[%s]" % pg.get("name")
            names = [p.get("name") for p in pg if p.tag in ("propval", "property")]
            for n in sorted({n for n in names if names.count(n) > 1}):
                self.problem(pw, "property %s is defined more than once" % n)
            for pv in pg.findall("propval"):
                self.check_value(pw, pv.get("name"), pv.get("type"), pv.get("value", ""))

    def unique(self, parent, where, kind):
        names = [e.get("name") for e in parent.findall(kind)]
        for n in sorted({n for n in names if n is not None and names.count(n) > 1}):
            self.problem(where, "more than one <%s name=%r>" % (kind, n))

    def check_value(self, where, name, typ, value):
        bad = ((typ == "boolean" and value not in BOOL)
               or (typ == "count" and not re.fullmatch(r"[0-9]+", value))
               or (typ == "integer" and not re.fullmatch(r"-?[0-9]+", value)))
        if bad:
            self.problem(where, "%s: %r is not a valid %s" % (name, value, typ))

    # --- the tern service's contract ---------------------------------------------------

    def check_tern(self, root):
        svc = root.find("service")
        if svc is None:
            return
        w = "tern"
        if svc.get("name") != "network/routing/tern":
            self.problem(w, "service name is %r, not network/routing/tern" % svc.get("name"))
        if svc.get("type") != "service":
            self.problem(w, "service type is %r, not service" % svc.get("type"))
        if [i.get("name") for i in svc.findall("instance")] != ["default"]:
            self.problem(w, "expected exactly one instance, named default")
        deps = {f.get("value") for d in svc.findall("dependency")
                if d.get("grouping") == "require_all" for f in d.findall("service_fmri")}
        for fmri in ("svc:/milestone/network:default", "svc:/system/filesystem/local"):
            if fmri not in deps:
                self.problem(w, "no require_all dependency on %s" % fmri)
        methods = {m.get("name"): m for m in svc.findall("exec_method")}
        expect = {"start": "/lib/svc/method/tern start", "stop": ":kill",
                  "refresh": ":kill -HUP"}
        for name, exec_ in expect.items():
            m = methods.get(name)
            if m is None:
                self.problem(w, "no %s method" % name)
            elif m.get("exec") != exec_:
                self.problem(w, "%s method runs %r, not %r" % (name, m.get("exec"), exec_))
            elif m.get("timeout_seconds") in ("0", "-1"):
                self.problem(w, "%s method has no timeout" % name)
        start = methods.get("start")
        cred = start.find("method_context/method_credential") if start is not None else None
        if cred is None:
            self.problem(w, "the start method has no method_context/method_credential")
        else:
            privs = [p.strip() for p in cred.get("privileges", "").split(",")]
            for needed in ("basic", "net_privaddr", "sys_ip_config"):
                if needed not in privs:
                    self.problem(w, "start method privileges lack %s" % needed)
            for unneeded in ("all", "zone", "net_rawaccess"):
                if unneeded in privs:
                    self.problem(w, "start method privileges include %s, which ternd does "
                                 "not need" % unneeded)
        pgs = {pg.get("name"): pg for pg in svc.findall("property_group")}
        config = pgs.get("config")
        if config is None or config.get("type") != "application":
            self.problem(w, "no application property group named config")
        else:
            vals = {p.get("name"): p for p in config.findall("propval")}
            f = vals.get("file")
            if f is None or f.get("type") != "astring" or f.get("value") != "/etc/tern/tern.toml":
                self.problem(w, "config/file must be an astring /etc/tern/tern.toml")
            s = vals.get("state_dir")
            if s is None or s.get("type") != "astring" or not s.get("value", "").startswith("/"):
                self.problem(w, "config/state_dir must be an astring absolute path")
        tmpl = svc.find("template")
        if tmpl is None or tmpl.find("common_name") is None or tmpl.find("documentation") is None:
            self.problem(w, "the service template needs common_name and documentation")
        elif not list(tmpl.find("documentation")):
            self.problem(w, "the template's documentation is empty")

    def run(self, tern):
        try:
            with open(self.path, "rb") as f:
                data = f.read()
        except OSError as e:
            self.problems.append("%s: %s" % (self.path, e.strerror))
            return
        text = data.decode("utf-8", "replace")
        self.check_doctype(text)
        try:
            root = ET.fromstring(data)
        except ET.ParseError as e:
            self.problems.append("%s: not well-formed XML: %s" % (self.path, e))
            return
        if root.tag != "service_bundle":
            self.problem(root.tag, "the document element must be <service_bundle>")
            return
        self.check_tree(root, "")
        self.check_smf(root)
        if tern:
            self.check_tern(root)


def main(argv):
    args = argv[1:]
    if "--emit-dtd" in args:
        sys.stdout.write(emit_dtd())
        return 0
    tern = "--generic" not in args
    paths = [a for a in args if a != "--generic"]
    if any(p.startswith("-") for p in paths) or len(paths) > 1:
        sys.stderr.write("usage: check.py [--generic] [MANIFEST] | --emit-dtd\n")
        return 2
    path = paths[0] if paths else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                               "tern.xml")
    checker = Checker(path)
    checker.run(tern)
    for p in checker.problems:
        sys.stderr.write("check.py: %s\n" % p)
    if checker.problems:
        sys.stderr.write("check.py: %s: %d problem(s)\n" % (path, len(checker.problems)))
        return 1
    print("check.py: %s: structure matches the service_bundle DTD%s" % (
        path, "" if not tern else "; tern service contract holds"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
