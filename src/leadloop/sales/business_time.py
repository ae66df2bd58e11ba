"""Business time for the first-contact SLA: the calendar lives in `core.business_time`, since
the telemarketing desk's calling hours (`nurture.calls`) read it too."""

from leadloop.core.business_time import HORIZON_DAYS as HORIZON_DAYS
from leadloop.core.business_time import MONDAY_TO_FRIDAY as MONDAY_TO_FRIDAY
from leadloop.core.business_time import BusinessCalendar as BusinessCalendar
from leadloop.core.business_time import NoWorkingTime as NoWorkingTime
from leadloop.core.business_time import public_holidays as public_holidays
