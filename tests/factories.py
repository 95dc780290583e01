import factory
from django.utils import timezone

from accounts.choices import Role, UnitKind
from accounts.models import Unit, User, unit_path_below

DEFAULT_PASSWORD = "Quat-Mua-But-Chi-7!"


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit

    code = factory.Sequence(lambda n: f"{n % 1000:03d}.{(n // 1000) % 100:02d}.99.H19")
    name = factory.Sequence(lambda n: f"Đơn vị thử {n}")
    kind = UnitKind.COMMUNE
    parent = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        unit = super()._create(model_class, *args, **kwargs)
        unit.path = unit_path_below(unit.parent.path if unit.parent_id else None, unit.pk)
        unit.save(update_fields=["path"])
        return unit


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"canbo{n}")
    full_name = factory.Sequence(lambda n: f"Cán bộ Thử {n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@dongnai.gov.vn")
    unit = factory.SubFactory(UnitFactory)
    role = Role.OFFICER
    password_changed_at = factory.LazyFunction(timezone.now)
    # Hashed for each account (its own salt) with the test run's cheap Argon2 (tests/hashers.py).
    password = factory.django.Password(DEFAULT_PASSWORD)


def dong_nai_units() -> dict:
    """A small Đồng Nai tree: the province, the department and its IT Center and inspectorate, and two
    cities (Biên Hòa, Long Khánh) with a ward each (Tân Phong, Xuân An)."""
    province = UnitFactory(code="000.00.00.H19", name="UBND tỉnh Đồng Nai", kind=UnitKind.PROVINCE)
    department = UnitFactory(code="000.00.11.H19", name="Sở Thông tin và Truyền thông", kind=UnitKind.DEPARTMENT,
                             parent=province)
    it_center = UnitFactory(code="000.01.11.H19", name="Trung tâm Công nghệ thông tin và Truyền thông",
                            kind=UnitKind.IT_CENTER, parent=department)
    inspectorate = UnitFactory(code="000.02.11.H19", name="Thanh tra Sở Thông tin và Truyền thông",
                               kind=UnitKind.DEPARTMENT, parent=department)
    bien_hoa = UnitFactory(code="000.00.31.H19", name="UBND thành phố Biên Hòa", kind=UnitKind.CITY, parent=province)
    tan_phong = UnitFactory(code="000.01.31.H19", name="UBND phường Tân Phong", kind=UnitKind.WARD, parent=bien_hoa)
    long_khanh = UnitFactory(code="000.00.32.H19", name="UBND thành phố Long Khánh", kind=UnitKind.CITY,
                             parent=province)
    xuan_an = UnitFactory(code="000.01.32.H19", name="UBND phường Xuân An", kind=UnitKind.WARD, parent=long_khanh)
    return {"province": province, "department": department, "it_center": it_center, "inspectorate": inspectorate,
            "bien_hoa": bien_hoa, "tan_phong": tan_phong, "long_khanh": long_khanh, "xuan_an": xuan_an}
