"""An ERP-like SOAP 1.1 service on a real SOAP stack (spyne), for the SOAP tests.

    python3 tests/peers/erp_soap.py [PORT]

Listens on 127.0.0.1 (port 0: any free port), prints `listening PORT` once ready, and stops by
itself after 15 minutes or when its stdin closes (the test that started it ended).
Document/literal, qualified, namespace urn:legacy-mcp:erp, WSDL at `/?wsdl`:

- GetCustomer(customer_no) -> Customer; a `Client.NotFound` fault for an unknown number
- FindItems(prefix, max_price?) -> Item[] (each with Tags: string[] and a `unit` attribute)
- GetItems(item_nos: string[]) -> Item[] in the order asked; a fault for an unknown number
- GetSalesOrder(order_no) -> SalesOrder with Lines; a fault for an unknown number
- CreateSalesOrder(customer_no, item_no, quantity) -> the new order's number (a write)
- Echo(text) -> the text, unchanged (shows that values travel escaped and intact)
- SetDeliveryTime(order_no, delivery: dateTime) -> nothing (an empty answer element)
- GetDeliveryTime(order_no) -> the dateTime last set, as the service received it
"""
import logging
import sys
import threading
from decimal import Decimal as D
from datetime import date
from wsgiref.simple_server import WSGIRequestHandler, make_server

from spyne import (Application, Array, Boolean, ComplexModel, Date, DateTime, Decimal, Fault,
                   Integer, ServiceBase, Unicode, XmlAttribute, rpc)
from spyne.protocol.soap import Soap11
from spyne.server.wsgi import WsgiApplication

NS = "urn:legacy-mcp:erp"
# Faults are answers here, not server errors worth a traceback.
logging.getLogger("spyne").setLevel(logging.CRITICAL)


class Customer(ComplexModel):
    __namespace__ = NS
    No = Unicode
    Name = Unicode
    Email = Unicode
    Balance = Decimal
    LastOrder = Date
    Blocked = Boolean


class Item(ComplexModel):
    __namespace__ = NS
    unit = XmlAttribute(Unicode)
    ItemNo = Unicode
    Description = Unicode
    Price = Decimal
    Tags = Array(Unicode)


class Line(ComplexModel):
    __namespace__ = NS
    ItemNo = Unicode
    Quantity = Integer
    Amount = Decimal


class SalesOrder(ComplexModel):
    __namespace__ = NS
    No = Unicode
    CustomerNo = Unicode
    OrderDate = Date
    Lines = Array(Line)


CUSTOMERS = {
    "C10000": Customer(No="C10000", Name="Müller & Söhne <GmbH>", Email="einkauf@mueller.example",
                       Balance=D("12500.50"), LastOrder=date(2026, 10, 2), Blocked=False),
    "C10001": Customer(No="C10001", Name="Contoso Ltd", Email="ap@contoso.example",
                       Balance=D("-310.00"), LastOrder=None, Blocked=True),
}
ITEMS = [
    Item(unit="PCS", ItemNo="1000", Description="Bicycle", Price=D("4000.00"), Tags=["bike", "sport"]),
    Item(unit="PCS", ItemNo="1001", Description="Touring Bicycle", Price=D("4500.00"), Tags=[]),
    Item(unit="BOX", ItemNo="1100", Description="Front Wheel", Price=D("120.50"), Tags=["spare"]),
    Item(unit="PCS", ItemNo="2000", Description="Helmet", Price=D("59.90"), Tags=None),
]
ORDERS = {
    "SO-1001": SalesOrder(No="SO-1001", CustomerNo="C10000", OrderDate=date(2026, 11, 2),
                          Lines=[Line(ItemNo="1000", Quantity=2, Amount=D("8000.00")),
                                 Line(ItemNo="1100", Quantity=4, Amount=D("482.00"))]),
}
LOCK = threading.Lock()
DELIVERY = {}


def not_found(what, key):
    return Fault(faultcode="Client.NotFound", faultstring=f"{what} {key} does not exist",
                 detail={"Key": key})


class ErpService(ServiceBase):
    @rpc(Unicode, _returns=Customer)
    def GetCustomer(ctx, customer_no):
        c = CUSTOMERS.get(customer_no)
        if c is None:
            raise not_found("Customer", customer_no)
        return c

    @rpc(Unicode, Decimal, _returns=Array(Item))
    def FindItems(ctx, prefix, max_price):
        return [i for i in ITEMS
                if i.ItemNo.startswith(prefix or "") and (max_price is None or i.Price <= max_price)]

    @rpc(Array(Unicode), _returns=Array(Item))
    def GetItems(ctx, item_nos):
        by_no = {i.ItemNo: i for i in ITEMS}
        missing = [n for n in item_nos or [] if n not in by_no]
        if missing:
            raise not_found("Item", missing[0])
        return [by_no[n] for n in item_nos or []]

    @rpc(Unicode, _returns=SalesOrder)
    def GetSalesOrder(ctx, order_no):
        o = ORDERS.get(order_no)
        if o is None:
            raise not_found("Sales order", order_no)
        return o

    @rpc(Unicode, Unicode, Integer, _returns=Unicode)
    def CreateSalesOrder(ctx, customer_no, item_no, quantity):
        if customer_no not in CUSTOMERS:
            raise not_found("Customer", customer_no)
        item = next((i for i in ITEMS if i.ItemNo == item_no), None)
        if item is None:
            raise not_found("Item", item_no)
        with LOCK:
            no = f"SO-{1001 + len(ORDERS)}"
            ORDERS[no] = SalesOrder(No=no, CustomerNo=customer_no, OrderDate=date.today(),
                                    Lines=[Line(ItemNo=item_no, Quantity=quantity,
                                                Amount=item.Price * quantity)])
        return no

    @rpc(Unicode, _returns=Unicode)
    def Echo(ctx, text):
        return text

    @rpc(Unicode, DateTime)
    def SetDeliveryTime(ctx, order_no, delivery):
        if order_no not in ORDERS:
            raise not_found("Sales order", order_no)
        with LOCK:
            DELIVERY[order_no] = delivery

    @rpc(Unicode, _returns=Unicode)
    def GetDeliveryTime(ctx, order_no):
        # As text: what arrived, zone included, unchanged by a round trip through DateTime.
        d = DELIVERY.get(order_no)
        return None if d is None else d.isoformat()


class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    app = Application([ErpService], tns=NS, name="ErpService",
                      in_protocol=Soap11(validator="lxml"), out_protocol=Soap11())
    server = make_server("127.0.0.1", port, WsgiApplication(app), handler_class=Quiet)
    print(f"listening {server.server_port}", flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # Stop when the test that started us closes our stdin, or after 15 minutes at most.
    waiter = threading.Thread(target=sys.stdin.read, daemon=True)
    waiter.start()
    waiter.join(timeout=900)
    server.shutdown()


if __name__ == "__main__":
    main()
