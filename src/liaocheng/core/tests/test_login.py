import pyotp
import pytest

from liaocheng.core import services
from liaocheng.core.errors import Conflict, InvalidInput, Throttled
from liaocheng.core.models import AuditRecord, User
from liaocheng.core.testing import totp_code


@pytest.mark.django_db
def test_staff_needs_password_and_totp(staff_factory) -> None:
    user = staff_factory("login_a")
    with pytest.raises(services.LoginError) as err:
        services.authenticate(username="login_a", password=user.raw_password, totp_code="000000", ip="1.1.1.1")
    assert err.value.field == "totp"
    result = services.authenticate(username="login_a", password=user.raw_password, totp_code=totp_code(user),
                                   ip="1.1.1.1")
    assert result.user.pk == user.pk and not result.needs_totp_setup


@pytest.mark.django_db
def test_a_totp_code_cannot_be_replayed(staff_factory) -> None:
    user = staff_factory("login_b")
    code = totp_code(user)
    services.authenticate(username="login_b", password=user.raw_password, totp_code=code, ip="1.1.1.1")
    with pytest.raises(services.LoginError):
        services.authenticate(username="login_b", password=user.raw_password, totp_code=code, ip="1.1.1.1")


@pytest.mark.django_db
def test_throttling_locks_after_repeated_failures(staff_factory) -> None:
    user = staff_factory("login_c")
    for _ in range(5):
        with pytest.raises(services.LoginError):
            services.authenticate(username="login_c", password="wrong", ip="2.2.2.2")
    with pytest.raises(Throttled):  # even the right password is refused while locked
        services.authenticate(username="login_c", password=user.raw_password, totp_code=totp_code(user),
                              ip="2.2.2.2")


@pytest.mark.django_db
def test_first_login_binds_an_authenticator(staff_factory) -> None:
    user = staff_factory("login_d", totp=False)
    result = services.authenticate(username="login_d", password=user.raw_password, ip="3.3.3.3")
    assert result.needs_totp_setup
    uri = services.begin_totp_setup(acting_user=result.user)
    assert uri.startswith("otpauth://totp/") and "login_d" in uri
    with pytest.raises(InvalidInput):
        services.confirm_totp(acting_user=result.user, code="123456")
    services.confirm_totp(acting_user=result.user, code=pyotp.TOTP(result.user.totp_secret).now())
    assert User.objects.get(pk=user.pk).totp_confirmed
    assert AuditRecord.objects.filter(action="core.totp_confirmed", object_id=str(user.pk)).exists()


@pytest.mark.django_db
def test_citizen_registration_validates_the_id_number() -> None:
    with pytest.raises(InvalidInput) as err:
        services.register_citizen(username="zhang", password="Good-pass-2026", real_name="张三",
                                  id_number="371502199801011233", phone="13806351234")
    assert err.value.field == "id_number" and "校验位" in err.value.message_zh
    assert not User.objects.filter(username="zhang").exists()
    reg = services.register_citizen(username="zhang", password="Good-pass-2026", real_name="张三",
                                    id_number="371502199801011232", phone="13806351234")
    assert reg.user.kind == "citizen" and reg.user.id_number == "371502199801011232"
    with pytest.raises(Conflict):
        services.register_citizen(username="zhang2", password="Good-pass-2026", real_name="张三",
                                  id_number="371502199801011232", phone="13806351235")
    # citizens log in with the password alone
    assert services.authenticate(username="zhang", password="Good-pass-2026", ip="4.4.4.4").user.pk == reg.user.pk


@pytest.mark.django_db
def test_enterprise_registration_checks_the_credit_code() -> None:
    with pytest.raises(InvalidInput) as err:
        services.register_enterprise(username="ent", password="Good-pass-2026", organisation_name="某公司",
                                     credit_code="9137150", contact_name="李四", phone="13806351234")
    assert err.value.field == "credit_code"
    ok = services.register_enterprise(username="ent", password="Good-pass-2026", organisation_name="某公司",
                                      credit_code="91110000600037341L", contact_name="李四", phone="13806351234")
    assert ok.warnings == []
    legacy = services.register_enterprise(username="ent2", password="Good-pass-2026", organisation_name="老公司",
                                          credit_code="91350100M0001TGQXM", contact_name="王五",
                                          phone="13806351234")
    assert legacy.warnings and "legacy" in legacy.warnings[0]
