"""The accounts app's forms, one module per area: accounts and units (accounts.py), sign-in (signin.py),
turnover requests (turnover.py), rosters, recertification and dormancy (review.py). Forms only parse and
validate. Re-exported here, so that `from accounts.forms import AccountCreateForm` keeps working."""
from .accounts import (  # noqa: F401
    EMAIL_MAX_LENGTH,
    REASON_MAX_LENGTH,
    AccountCreateForm,
    AccountEditForm,
    AccountFilterForm,
    DecisionNumberField,
    LegalBasisForm,
    NameField,
    PhoneField,
    ReasonForm,
    UnitChoiceField,
    UnitCreateForm,
    UnitMergeForm,
    UnitPicker,
    UnitRenameForm,
    UnitRetireForm,
    UnitSearchForm,
    UnitTargetForm,
    UsernameField,
)
from .review import (  # noqa: F401
    CampaignStartForm,
    DormancyExemptionForm,
    PrefilledTurnoverLineFormSet,
    RecertificationDecisionForm,
    RecertificationKeepForm,
    RosterChoiceForm,
    RosterUploadForm,
    end_of_day,
)
from .signin import (  # noqa: F401
    USERNAME_MAX_LENGTH,
    EnrolmentForm,
    LoginForm,
    PasswordChangeForm,
    SecondStepForm,
)
from .turnover import (  # noqa: F401
    DATE_WIDGET,
    LOOKUP_CHOICES,
    AccountChoiceField,
    BaseTurnoverLineFormSet,
    CancelForm,
    HolidayForm,
    ReturnForm,
    TurnoverFilterForm,
    TurnoverLetterForm,
    TurnoverLineForm,
    TurnoverLineFormSet,
)
