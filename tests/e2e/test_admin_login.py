import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_superuser_signs_in_and_sees_the_product_admin(page, login, screenshot, live_server):
    login(page, username="root", is_superuser=True)
    assert "BICS CPaaS back-office" in page.content()
    assert page.get_by_role("link", name="Log out").count() + page.get_by_role("button", name="Log out").count() >= 1
    screenshot(page, "admin-index")


def test_wrong_password_is_refused(page, live_server, django_user_model):
    django_user_model.objects.create_user(username="eve", password="right-password-123", is_staff=True)
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill("eve")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    assert "Please enter the correct username and password" in page.content()
    assert page.url.startswith(f"{live_server.url}/admin/login/")
