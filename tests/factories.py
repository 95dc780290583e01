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
