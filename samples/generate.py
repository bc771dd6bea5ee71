#!/usr/bin/env python3
"""Generates samples/ecommerce/: a small, realistic e-commerce event data set.

Five services (orders, payments, inventory, shipping, notifications) each write their own
log, each in a different format, as real services do:

  orders.jsonl              CloudEvents 1.0, one JSON object per line
  payments.log              app-log lines: <ts> <LEVEL> <service> {json}
  inventory.logfmt          logfmt key=value lines
  shipping.json             one pretty-printed JSON array, envelope nested under "metadata"
  notifications.jsonl.gz    gzip'd JSON lines, epoch-millisecond times, ids under "meta"

Deterministic: the same seed gives byte-identical files (gzip mtime is 0). The defects it
plants are listed in samples/README.md; run with --list-defects to print where they are.

usage: python3 samples/generate.py [--out DIR] [--seed N] [--orders N] [--list-defects]
"""
import argparse
import datetime as dt
import gzip
import io
import json
import os
import random
import uuid

SERVICES = ("orders", "payments", "inventory", "shipping", "notifications")
START = dt.datetime(2026, 3, 16, 9, 0, 0, tzinfo=dt.timezone.utc)

# Orders chosen to carry the planted defects (see samples/README.md).
RETRY_ORDER = "ord-1042"        # payment retried with a new id + OrderConfirmed redelivered
ORPHAN_ORDER = "ord-1077"       # the OrderConfirmed line is missing from orders.jsonl
COLLIDE_FIRST = "ord-1101"      # its PaymentAuthorised id is reused by...
COLLIDE_SECOND = "ord-1213"     # ...this order's PaymentAuthorised (different content)
SKEW_RANGE = range(1150, 1200)  # inventory host clock 2.5 s behind for these orders
SKEW_US = -2_500_000
TECH_ORDERS = ("ord-1008", "ord-1123", "ord-1266")   # RowInserted leaks from inventory CDC
NOCORR_ORDERS = ("ord-1019", "ord-1088", "ord-1190", "ord-1244")  # notification w/o corr id
STUCK_ORDERS = ("ord-1064", "ord-1133")  # payment authorised, never confirmed

SKUS = [("sku-%04d" % n, name, price) for n, (name, price) in enumerate([
    ("espresso beans 1kg", 24.90), ("pour-over kettle", 54.00), ("ceramic dripper", 21.50),
    ("paper filters x100", 6.20), ("burr grinder", 189.00), ("milk jug 600ml", 17.80),
    ("travel mug", 19.90), ("scale 0.1g", 39.00), ("decaf beans 500g", 13.40),
    ("cleaning tablets", 9.90)], start=1)]
CITIES = ["Lyon", "Porto", "Gdańsk", "Aarhus", "Bilbao", "Graz", "Utrecht", "Brno", "Turku"]
CARRIERS = ["dhl", "ups", "postnl", "gls"]


class Gen:
    def __init__(self, seed, collected):
        self.rng = random.Random(seed)
        self.collected = collected  # when the logs were copied: nothing after it is seen
        self.events = {s: [] for s in SERVICES}
        self.defects = []
        self.saved_ids = {}

    def uid(self):
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def emit(self, svc, typ, t, corr, cause, data, **extra):
        ev = {"id": self.uid(), "type": typ, "source": svc, "t": t, "corr": corr,
              "cause": cause["id"] if cause else None, "data": data}
        ev.update(extra)
        self.events[svc].append(ev)
        return ev

    def later(self, t, lo_ms, hi_ms):
        return t + dt.timedelta(microseconds=self.rng.randint(lo_ms * 1000, hi_ms * 1000))

    def order(self, n, t0):
        oid = "ord-%d" % n
        rng = self.rng
        cust = "cust-%03d" % rng.randint(1, 180)
        items = []
        for sku, name, price in rng.sample(SKUS, rng.randint(1, 3)):
            items.append({"sku": sku, "name": name, "qty": rng.randint(1, 3), "price": price})
        total = round(sum(i["qty"] * i["price"] for i in items), 2)
        placed = self.emit("orders", "OrderPlaced", t0, oid, None,
                           {"orderId": oid, "customerId": cust, "items": items,
                            "total": total, "currency": "EUR"})
        if n % 37 == 5:  # first order of a new customer: an imperative name leaks out
            self.emit("notifications", "SendWelcomeEmail", self.later(t0, 40, 200), oid, placed,
                      {"customerId": cust, "template": "welcome-v3"})
            self.defects.append(("naming.command_shaped", oid, "SendWelcomeEmail"))

        # Fan-out: inventory and payments react to OrderPlaced concurrently.
        skew = SKEW_US if n in SKEW_RANGE else 0
        t_inv = self.later(t0, 15, 180)
        # Orders chosen to carry a defect always take the happy path.
        planted = oid in (RETRY_ORDER, ORPHAN_ORDER, COLLIDE_FIRST, COLLIDE_SECOND) \
            or oid in STUCK_ORDERS or oid in TECH_ORDERS or oid in NOCORR_ORDERS
        short = rng.random() < 0.04 and not planted
        inv_extra = {"skew_us": skew}
        if short:
            inv = self.emit("inventory", "InventoryShortage", t_inv, oid, placed,
                            {"sku": items[0]["sku"], "requested": items[0]["qty"],
                             "available": 0}, **inv_extra)
        else:
            inv = self.emit("inventory", "InventoryReserved", t_inv, oid, placed,
                            {"reservation": "res-%d" % n, "lines": len(items)}, **inv_extra)
            if oid in TECH_ORDERS:
                self.emit("inventory", "RowInserted", self.later(t_inv, 1, 5), oid, inv,
                          {"table": "reservations", "pk": "res-%d" % n}, **inv_extra)
                self.defects.append(("naming.technical", oid, "RowInserted"))
        if skew:
            self.defects.append(("ordering.time_before_cause", oid, "inventory clock -2.5s"))

        t_pay = self.later(t0, 80, 900)
        declined = not short and rng.random() < 0.06 and not planted
        if declined:
            pay = self.emit("payments", "PaymentDeclined", t_pay, oid, placed,
                            {"amount": total, "reason": rng.choice(["insufficient_funds",
                                                                     "card_expired"])})
        else:
            pay = self.emit("payments", "PaymentAuthorised", t_pay, oid, placed,
                            {"amount": total, "currency": "EUR",
                             "authCode": "A%06d" % rng.randint(0, 999999)})
            if oid == COLLIDE_FIRST:
                self.saved_ids["collide"] = pay
            if oid == COLLIDE_SECOND:
                pay["id"] = self.saved_ids["collide"]["id"]
                self.defects.append(("duplicate.id_collision", oid, pay["id"]))
            if oid == RETRY_ORDER:
                # The producer timed out waiting for the broker ack and published again,
                # with a fresh id: same type, subject and payload.
                retry = dict(pay, id=self.uid(), t=self.later(t_pay, 2000, 2400))
                self.events["payments"].append(retry)
                self.defects.append(("duplicate.semantic", oid, "PaymentAuthorised retried"))

        if short or declined:
            t_c = self.later(max(t_inv, t_pay), 20, 150)
            why = inv if short else pay
            canc = self.emit("orders", "OrderCancelled", t_c, oid, why,
                             {"orderId": oid, "reason": "out_of_stock" if short
                              else "payment_declined"})
            if short and not declined:
                if rng.random() < 0.5:
                    self.emit("payments", "PaymentVoided", self.later(t_c, 30, 300), oid,
                              canc, {"amount": total})
            else:
                self.emit("inventory", "InventoryReleased", self.later(t_c, 10, 90), oid,
                          canc, {"reservation": "res-%d" % n}, skew_us=skew)
            self.emit("notifications", "CancellationEmailSent", self.later(t_c, 200, 1500),
                      oid, canc, {"to": cust + "@example.com", "template": "cancelled-v2"})
            return
        if oid in STUCK_ORDERS:
            self.defects.append(("status.stuck", oid, "no OrderConfirmed"))
            return

        t_conf = self.later(max(t_inv, t_pay), 20, 120)
        conf = self.emit("orders", "OrderConfirmed", t_conf, oid, pay,
                         {"orderId": oid, "total": total})
        if oid == RETRY_ORDER:
            conf["redelivered"] = True
            self.defects.append(("duplicate.exact", oid, "OrderConfirmed logged twice"))
        if oid == ORPHAN_ORDER:
            conf["drop"] = True
            self.defects.append(("causality.orphan", oid, conf["id"]))
        mail = {"to": cust + "@example.com", "template": "order-confirmed-v5"}
        note = self.emit("notifications", "OrderConfirmationSent", self.later(t_conf, 300, 2500),
                         oid, conf, mail)
        if oid in NOCORR_ORDERS:
            note["corr"] = None
            self.defects.append(("metadata.missing_correlation_id", oid, note["id"]))

        # Shipping: scheduled within a minute, dispatched within the hour; orders whose
        # dispatch falls after the logs were collected are still in flight.
        t_s = self.later(t_conf, 500, 40000)
        sched = self.emit("shipping", "ShipmentScheduled", t_s, oid, conf,
                          {"shipmentId": "shp-%d" % n, "carrier": rng.choice(CARRIERS),
                           "city": rng.choice(CITIES)})
        t_d = self.later(t_s, 5 * 60 * 1000, 50 * 60 * 1000)
        if t_d > self.collected:
            return
        disp = self.emit("shipping", "ShipmentDispatched", t_d, oid, sched,
                         {"shipmentId": "shp-%d" % n,
                          "tracking": "TRK%010d" % rng.randint(0, 10**10 - 1)})
        self.emit("notifications", "ShipmentNotificationSent", self.later(t_d, 500, 5000), oid,
                  disp, {"to": cust + "@example.com", "template": "shipped-v2"})


def iso(t, zone=True, digits=3):
    s = t.strftime("%Y-%m-%dT%H:%M:%S") + (".%06d" % t.microsecond)[: digits + 1]
    return s + "Z" if zone else s


def shifted(ev):
    return ev["t"] + dt.timedelta(microseconds=ev.get("skew_us", 0))


def write_orders(g, out):
    lines = []
    for ev in sorted(g.events["orders"], key=lambda e: (e["t"], e["id"])):
        if ev.get("drop"):
            continue
        ce = {"specversion": "1.0", "id": ev["id"], "source": "orders", "type": ev["type"],
              "time": iso(ev["t"], digits=6), "subject": ev["corr"],
              "datacontenttype": "application/json", "correlationid": ev["corr"]}
        if ev["cause"]:
            ce["causationid"] = ev["cause"]
        ce["data"] = ev["data"]
        line = json.dumps(ce, separators=(",", ":"), ensure_ascii=False)
        lines.append(line)
        if ev.get("redelivered"):
            lines.append(line)  # the outbox relay re-published after a broker redelivery
    with open(os.path.join(out, "orders.jsonl"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def write_payments(g, out):
    rows = []
    for ev in g.events["payments"]:
        obs = g.later(ev["t"], 1, 30)
        rec = {"eventId": ev["id"], "eventType": ev["type"], "occurredAt": iso(ev["t"]),
               "correlationId": ev["corr"], "causationId": ev["cause"],
               "payload": ev["data"]}
        rows.append((obs, "INFO", json.dumps(rec, separators=(",", ":"))))
    # Operational noise the collector must skip or reject without losing the neighbours.
    t = START + dt.timedelta(minutes=47, seconds=3)
    rows.append((t, "WARN", '{"msg":"psp latency above 800ms","p99_ms":912}'))
    t = START + dt.timedelta(hours=1, minutes=12)
    rows.append((t, "INFO", '{"eventId":"9c1f0e2a-3b57-4d8e-a1c4-5e0b2f7d9a13","eventTy'))
    rows.sort(key=lambda r: r[0])
    with open(os.path.join(out, "payments.log"), "w", encoding="utf-8") as f:
        for obs, level, body in rows:
            f.write("%s %s payments %s\n" % (iso(obs), level, body))


def logfmt_value(v):
    s = str(v)
    if s == "" or any(c in s for c in ' ="'):
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return s


def write_inventory(g, out):
    lines = []
    for ev in sorted(g.events["inventory"], key=lambda e: (shifted(e), e["id"])):
        kv = [("ts", iso(shifted(ev))), ("level", "info"), ("service", "inventory"),
              ("event_type", ev["type"]), ("event_id", ev["id"]),
              ("correlation_id", ev["corr"]), ("causation_id", ev["cause"])]
        kv += sorted(ev["data"].items())
        kv.append(("msg", {"InventoryReserved": "stock reserved",
                           "InventoryShortage": "not enough stock",
                           "InventoryReleased": "reservation released",
                           "RowInserted": "cdc row"}[ev["type"]]))
        lines.append(" ".join("%s=%s" % (k, logfmt_value(v)) for k, v in kv if v is not None))
    with open(os.path.join(out, "inventory.logfmt"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def write_shipping(g, out):
    arr = []
    for ev in sorted(g.events["shipping"], key=lambda e: (e["t"], e["id"])):
        arr.append({"metadata": {"messageId": ev["id"], "type": ev["type"],
                                 "producer": "shipping",
                                 # local wall-clock time, no offset: a real defect
                                 "timestamp": iso(ev["t"], zone=False),
                                 "correlation_id": ev["corr"],
                                 "causation_id": ev["cause"]},
                    "body": ev["data"]})
    with open(os.path.join(out, "shipping.json"), "w", encoding="utf-8") as f:
        json.dump(arr, f, indent=2, ensure_ascii=False)
        f.write("\n")


def write_notifications(g, out):
    buf = io.StringIO()
    for ev in sorted(g.events["notifications"], key=lambda e: (e["t"], e["id"])):
        meta = {"causationId": ev["cause"]}
        if ev["corr"]:
            meta["correlationId"] = ev["corr"]
        ms = int(ev["t"].timestamp() * 1000)
        rec = {"id": ev["id"], "type": ev["type"], "svc": "notifications", "ts": ms,
               "meta": meta, "data": ev["data"]}
        buf.write(json.dumps(rec, separators=(",", ":")) + "\n")
    raw = buf.getvalue().encode("utf-8")
    with open(os.path.join(out, "notifications.jsonl.gz"), "wb") as f:
        with gzip.GzipFile(filename="notifications.jsonl", mode="wb", fileobj=f,
                           mtime=0) as z:
            z.write(raw)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "ecommerce"))
    ap.add_argument("--seed", type=int, default=20260316)
    ap.add_argument("--orders", type=int, default=300)
    ap.add_argument("--list-defects", action="store_true")
    a = ap.parse_args()

    # Order times first (their own stream), so the collection time is known up front.
    trng = random.Random(a.seed + 1)
    times, t = [], START
    for _ in range(a.orders):
        t = t + dt.timedelta(milliseconds=trng.randint(4000, 68000))
        times.append(t)
    g = Gen(a.seed, times[-1] + dt.timedelta(minutes=10))
    for n, t in enumerate(times, start=1000):
        g.order(n, t)
    os.makedirs(a.out, exist_ok=True)
    write_orders(g, a.out)
    write_payments(g, a.out)
    write_inventory(g, a.out)
    write_shipping(g, a.out)
    write_notifications(g, a.out)
    if a.list_defects:
        for d in g.defects:
            print("%-34s %-9s %s" % d)
    total = sum(len(v) for v in g.events.values())
    print("generate.py: %d orders, %d events in %s" % (a.orders, total, a.out))


if __name__ == "__main__":
    main()
