import pytest
from django.db import connection

from liaocheng.core import crypto
from liaocheng.core.models import User


def test_sm3_known_answer() -> None:
    # GB/T 32905-2016 example 1
    assert crypto.sm3_hex(b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


def test_sm4_round_trip_random_nonce_and_tamper_detection() -> None:
    a, b = crypto.encrypt("371502199801011232"), crypto.encrypt("371502199801011232")
    assert a != b and a.startswith("v1:")
    assert crypto.decrypt(a) == "371502199801011232"
    raw = bytearray(crypto.base64.b64decode(a[3:]))
    raw[14] ^= 1
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt("v1:" + crypto.base64.b64encode(bytes(raw)).decode())


def test_blind_index_is_keyed_normalised_and_namespaced() -> None:
    lower, upper = "11010519491231002x", "11010519491231002X"
    assert crypto.blind_index("id_number", lower) == crypto.blind_index("id_number", upper)
    assert crypto.blind_index("id_number", "13800000000") != crypto.blind_index("phone", "13800000000")
    assert len(crypto.blind_index("phone", "13800000000")) == 64


def test_masks() -> None:
    assert crypto.mask_id_number("37150219900101123X") == "371502********123X"
    assert crypto.mask_phone("13806351234") == "138****1234"
    assert crypto.mask_name("张三丰") == "张**"


@pytest.mark.django_db
def test_personal_data_is_encrypted_in_the_database(staff_factory) -> None:
    user = staff_factory("crypto_user", phone="13806351234", id_number="371502199801011232")
    with connection.cursor() as cur:
        cur.execute("SELECT id_number, phone FROM core_user WHERE id = %s", [user.pk])
        stored_id, stored_phone = cur.fetchone()
    assert "371502199801011232" not in stored_id and stored_id.startswith("v1:")
    assert "13806351234" not in stored_phone
    found = User.objects.get(id_number_bidx=crypto.blind_index("id_number", "371502199801011232"))
    assert found.pk == user.pk and found.id_number == "371502199801011232"
