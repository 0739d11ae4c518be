"""A rule's `residual_scope` / `residual_spare` as the censor checks them (control socket input)."""
import pytest

from controllers.rules.checks import RuleError, check_rule
from engine_helpers import HOSTS, rule


def test_defaults_to_the_3_tuple():
    checked = check_rule(rule("r", {"proto": ["udp"]}, "drop", residual=10), HOSTS)
    assert checked["residual_scope"] == "port" and checked["residual_spare"] == []


def test_server_scope_keeps_its_spared_ports_sorted_once():
    checked = check_rule(rule("r", {"proto": ["udp"]}, "drop", residual=10,
                              residual_scope="server", residual_spare=[443, 22, 22]), HOSTS)
    assert checked["residual_scope"] == "server" and checked["residual_spare"] == [22, 443]


@pytest.mark.parametrize("extra, message", [
    ({"residual_scope": "host"}, "rule r.residual_scope: expected port or server"),
    ({"residual_scope": "server", "residual_spare": [0]},
     "rule r.residual_spare: expected a list of ports 1-65535"),
    ({"residual_scope": "server", "residual_spare": "22"},
     "rule r.residual_spare: expected a list of ports 1-65535"),
    ({"residual_spare": [22]},
     "rule r.residual_spare: spares ports of a server-wide box (residual_scope: server)"),
])
def test_bad_scope_or_spare_is_named(extra, message):
    with pytest.raises(RuleError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_rule(rule("r", {"proto": ["udp"]}, "drop", residual=10, **extra), HOSTS)
