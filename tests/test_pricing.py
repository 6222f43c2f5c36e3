"""Monthly cost from the dated price table; unknown slugs are reported, never guessed."""

from __future__ import annotations

from decimal import Decimal

from infra.pricing import PRICE_TABLES, Billable, estimate, stack_cost


def test_prod_costs_exactly_35_plus_vercel(prod_config):
    cost = stack_cost(prod_config)
    assert cost.subtotal("digitalocean") == Decimal(35)
    assert cost.subtotal("vercel") == Decimal(0)  # Hobby
    assert cost.total_usd == Decimal(35)
    assert cost.complete
    assert [(i.component, i.slug, i.quantity, i.monthly_usd) for i in cost.items] == [
        ("App Platform service 'chatvista-api/api'", "apps-s-1vcpu-0.5gb", 1, Decimal(5)),
        ("Managed PostgreSQL", "db-s-1vcpu-1gb", 1, Decimal(15)),
        ("Managed Valkey", "db-s-1vcpu-1gb", 1, Decimal(15)),
        ("Vercel Hobby plan", "hobby", 1, Decimal(0)),
    ]


def test_prod_on_vercel_pro_adds_20_per_seat(stack_config):
    cost = stack_cost(stack_config(lambda c: c["chatvista:frontend"].update({"plan": "pro", "seats": 3})))
    assert cost.subtotal("vercel") == Decimal(60)
    assert cost.total_usd == Decimal(95)


def test_dev_costs_12():
    from infra.config.loading import load_stack_file

    assert stack_cost(load_stack_file("dev")).total_usd == Decimal(12)


def test_standby_nodes_are_priced_like_a_node(stack_config):
    cost = stack_cost(
        stack_config(lambda c: c["chatvista:database"].update({"nodeCount": 3, "size": "db-s-2vcpu-4gb"}))
    )
    (pg,) = [i for i in cost.items if i.component == "Managed PostgreSQL"]
    assert (pg.quantity, pg.unit_usd, pg.monthly_usd) == (3, Decimal(60), Decimal(180))


def test_instance_count_multiplies(stack_config):
    cost = stack_cost(
        stack_config(lambda c: c["chatvista:backend"].update({"instanceSize": "apps-d-2vcpu-4gb", "instanceCount": 2}))
    )
    (app,) = [i for i in cost.items if i.component.startswith("App Platform")]
    assert app.monthly_usd == Decimal(156)


def test_a_slug_without_a_price_is_unknown_not_guessed(stack_config):
    cost = stack_cost(stack_config(lambda c: c["chatvista:database"].update({"size": "db-s-16vcpu-64gb"})))
    (pg,) = [i for i in cost.items if i.component == "Managed PostgreSQL"]
    assert pg.monthly_usd is None and pg.unit_usd is None
    assert not cost.complete
    assert cost.unknown == ["Managed PostgreSQL: no known price for 'db-s-16vcpu-64gb'"]
    assert cost.total_usd == Decimal(20)  # app 5 + valkey 15; the unknown line is not counted as 0


def test_valkey_sizes_beyond_1_gib_are_unknown(stack_config):
    cost = stack_cost(stack_config(lambda c: c["chatvista:cache"].update({"size": "db-s-1vcpu-2gb"})))
    assert cost.unknown == ["Managed Valkey: no known price for 'db-s-1vcpu-2gb'"]


def test_price_table_matches_the_issue():
    assert PRICE_TABLES["app-platform"]["apps-s-1vcpu-0.5gb"] == 5
    assert PRICE_TABLES["app-platform"]["apps-d-8vcpu-32gb"] == 392
    assert PRICE_TABLES["postgres"]["db-s-8vcpu-32gb"] == 480
    assert PRICE_TABLES["valkey"] == {"db-s-1vcpu-1gb": 15}
    assert PRICE_TABLES["vercel"] == {"hobby": 0, "pro": 20}
    assert len(PRICE_TABLES["app-platform"]) == 14 and len(PRICE_TABLES["postgres"]) == 6


def test_unknown_table_is_unknown():
    cost = estimate([Billable("Load balancer", "load-balancer", "lb-small", 1, "node")])
    assert cost.items[0].monthly_usd is None and not cost.complete
