"""Parsl's ``parsl.addresses``: ways to find the address engines use to reach this machine.

Pass one as ``HighThroughputExecutor(address=...)`` when the default (this
machine's host name) is not reachable from the compute nodes.
"""

from __future__ import annotations

import socket

import psutil

__all__ = ["address_by_hostname", "address_by_interface", "address_by_route", "get_all_addresses"]


def address_by_hostname() -> str:
    """The fully qualified host name of this machine.

    Examples
    --------
    >>> isinstance(address_by_hostname(), str)
    True
    """
    return socket.getfqdn()


def address_by_route() -> str:
    """The IP address of the interface that routes to the internet (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("8.8.8.8", 53))
        return str(s.getsockname()[0])


def address_by_interface(ifname: str) -> str:
    """The IPv4 address of the network interface ``ifname``, for example ``'ib0'``.

    Raises
    ------
    ValueError
        If there is no such interface or it has no IPv4 address.
    """
    addrs = psutil.net_if_addrs()
    for a in addrs.get(ifname, []):
        if a.family == socket.AF_INET:
            return str(a.address)
    msg = (f"network interface {ifname!r} has no IPv4 address (interfaces here: {sorted(addrs)}); "
           "choose one of those, or use address_by_hostname()")
    raise ValueError(msg)


def get_all_addresses() -> set[str]:
    """Every IPv4 address of this machine's interfaces, and its host name."""
    found = {str(a.address) for addrs in psutil.net_if_addrs().values() for a in addrs
             if a.family == socket.AF_INET}
    found.add(address_by_hostname())
    return found
