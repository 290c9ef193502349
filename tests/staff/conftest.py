from tests.campaigns.conftest import (  # noqa: F401 - shared builders
    approve,
    make_campaign,
    make_contacts,
    make_template,
    owner,
    sandbox,
    sender,
)
