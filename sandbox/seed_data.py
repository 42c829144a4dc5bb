"""Tables for the demo company: accounts, cost codes, vendors, people, jobs, trades, files.

Everything here is fictional. Names deliberately include apostrophes and non-ASCII letters,
because QBO accepts them and a client must escape them in queries (API.md §13).
"""

from __future__ import annotations

import struct
import zlib
from typing import NamedTuple

from sandbox.pdf import one_page

COMPANY_NAME = "Ridgeline Builders LLC"
COMPANY_CITY = "Bayshore"
COMPANY_STATE = "CA"
COMPANY_STREET = "200 Harbor Blvd"
COMPANY_ZIP = "94320"


class AccountRow(NamedTuple):
    """One account of the chart."""

    key: str
    name: str
    account_type: str
    sub_type: str
    number: str
    parent: str | None = None


# The minimal chart every company has, also used by the empty seed.
BASE_ACCOUNTS: tuple[AccountRow, ...] = (
    AccountRow("checking", "Operating Checking", "Bank", "Checking", "1000"),
    AccountRow(
        "ar", "Accounts Receivable (A/R)", "Accounts Receivable", "AccountsReceivable", "1200"
    ),
    AccountRow(
        "undeposited", "Undeposited Funds", "Other Current Asset", "UndepositedFunds", "1250"
    ),
    AccountRow("ap", "Accounts Payable (A/P)", "Accounts Payable", "AccountsPayable", "2000"),
    AccountRow("equity", "Owner's Equity", "Equity", "OwnersEquity", "3000"),
    AccountRow("income", "Construction Income", "Income", "ServiceFeeIncome", "4000"),
    AccountRow("materials", "Job Materials", "Cost of Goods Sold", "SuppliesMaterialsCogs", "5000"),
)

DEMO_ACCOUNTS: tuple[AccountRow, ...] = BASE_ACCOUNTS + (
    AccountRow("payroll_bank", "Payroll Checking", "Bank", "Checking", "1010"),
    AccountRow("savings", "Reserve Savings", "Bank", "Savings", "1050"),
    AccountRow(
        "retainage_ar", "Retainage Receivable", "Other Current Asset", "OtherCurrentAssets", "1300"
    ),
    AccountRow("vehicles", "Trucks & Vehicles", "Fixed Asset", "Vehicles", "1500"),
    AccountRow(
        "equipment", "Construction Equipment", "Fixed Asset", "MachineryAndEquipment", "1510"
    ),
    AccountRow("visa", "Visa Business Card", "Credit Card", "CreditCard", "2100"),
    AccountRow("amex", "Amex Fleet & Fuel Card", "Credit Card", "CreditCard", "2110"),
    AccountRow(
        "payroll_liab",
        "Payroll Liabilities",
        "Other Current Liability",
        "PayrollTaxPayable",
        "2200",
    ),
    AccountRow(
        "retainage_ap",
        "Retainage Payable",
        "Other Current Liability",
        "OtherCurrentLiabilities",
        "2300",
    ),
    AccountRow("truck_loan", "Truck Loan", "Long Term Liability", "NotesPayable", "2700"),
    AccountRow("retained", "Retained Earnings", "Equity", "RetainedEarnings", "3900"),
    AccountRow("co_income", "Change Order Income", "Income", "ServiceFeeIncome", "4010"),
    AccountRow("mat_income", "Materials Income", "Income", "SalesOfProductIncome", "4020"),
    AccountRow("rental_income", "Equipment Rental Income", "Income", "OtherPrimaryIncome", "4030"),
    AccountRow("markup_income", "Markup Income", "Income", "ServiceFeeIncome", "4100"),
    AccountRow("interest_income", "Interest Earned", "Other Income", "InterestEarned", "4900"),
    AccountRow(
        "lumber", "Lumber", "Cost of Goods Sold", "SuppliesMaterialsCogs", "5010", "materials"
    ),
    AccountRow(
        "concrete",
        "Concrete & Masonry",
        "Cost of Goods Sold",
        "SuppliesMaterialsCogs",
        "5020",
        "materials",
    ),
    AccountRow(
        "steel",
        "Steel & Metals",
        "Cost of Goods Sold",
        "SuppliesMaterialsCogs",
        "5030",
        "materials",
    ),
    AccountRow(
        "finishes",
        "Finish Materials",
        "Cost of Goods Sold",
        "SuppliesMaterialsCogs",
        "5040",
        "materials",
    ),
    AccountRow(
        "elec_supplies",
        "Electrical Supplies",
        "Cost of Goods Sold",
        "SuppliesMaterialsCogs",
        "5050",
        "materials",
    ),
    AccountRow(
        "plumb_supplies",
        "Plumbing Supplies",
        "Cost of Goods Sold",
        "SuppliesMaterialsCogs",
        "5060",
        "materials",
    ),
    AccountRow("subs", "Subcontractors", "Cost of Goods Sold", "OtherCostsOfServiceCos", "5100"),
    AccountRow(
        "subs_elec",
        "Electrical Subcontractors",
        "Cost of Goods Sold",
        "OtherCostsOfServiceCos",
        "5110",
        "subs",
    ),
    AccountRow(
        "subs_plumb",
        "Plumbing Subcontractors",
        "Cost of Goods Sold",
        "OtherCostsOfServiceCos",
        "5120",
        "subs",
    ),
    AccountRow(
        "subs_mech",
        "HVAC Subcontractors",
        "Cost of Goods Sold",
        "OtherCostsOfServiceCos",
        "5130",
        "subs",
    ),
    AccountRow(
        "subs_site",
        "Sitework Subcontractors",
        "Cost of Goods Sold",
        "OtherCostsOfServiceCos",
        "5140",
        "subs",
    ),
    AccountRow(
        "subs_finish",
        "Finish Subcontractors",
        "Cost of Goods Sold",
        "OtherCostsOfServiceCos",
        "5150",
        "subs",
    ),
    AccountRow("labor", "Direct Labor", "Cost of Goods Sold", "CostOfLaborCos", "5200"),
    AccountRow("rental", "Equipment Rental", "Cost of Goods Sold", "EquipmentRentalCos", "5300"),
    AccountRow("permits", "Permits & Fees", "Cost of Goods Sold", "OtherCostsOfServiceCos", "5400"),
    AccountRow(
        "disposal", "Dump & Disposal", "Cost of Goods Sold", "OtherCostsOfServiceCos", "5500"
    ),
    AccountRow("fuel", "Fuel", "Expense", "Auto", "6000"),
    AccountRow("tools", "Small Tools & Consumables", "Expense", "SuppliesMaterials", "6100"),
    AccountRow(
        "office", "Office Supplies", "Expense", "OfficeGeneralAdministrativeExpenses", "6200"
    ),
    AccountRow("insurance", "Insurance", "Expense", "Insurance", "6300"),
    AccountRow("meals", "Meals & Entertainment", "Expense", "EntertainmentMeals", "6400"),
    AccountRow("vehicle_repair", "Vehicle Repairs", "Expense", "Auto", "6500"),
    AccountRow(
        "professional", "Legal & Professional Fees", "Expense", "LegalProfessionalFees", "6600"
    ),
    AccountRow("rent", "Yard & Office Rent", "Expense", "RentOrLeaseOfBuildings", "6700"),
    AccountRow("bank_fees", "Bank Charges", "Expense", "BankCharges", "6800"),
)


class CostCode(NamedTuple):
    """A service item used as a cost code.

    ``expense``/``income`` are account keys; None means the item lacks that side
    ("I purchase" / "I sell" unchecked). ``parent`` names another code's ``code``.
    """

    code: str
    name: str
    expense: str | None
    income: str | None
    unit_price: int
    purchase_cost: int
    parent: str | None = None
    active: bool = True


# CSI-style codes (MasterFormat divisions), named "NN-NNN Title" as construction firms do.
COST_CODES: tuple[CostCode, ...] = (
    CostCode("01-100", "General Conditions", "labor", "income", 95, 62),
    CostCode("01-200", "Project Supervision", "labor", "income", 110, 68),
    CostCode("01-500", "Temporary Facilities", "rental", "income", 350, 280),
    CostCode("01-540", "Site Security & Fencing", "rental", "income", 420, 330),
    CostCode("01-700", "Final Cleaning", "subs_finish", "income", 600, 450),
    CostCode("01-740", "Waste Management", "disposal", "income", 650, 520),
    CostCode("02-200", "Site Surveying", "subs_site", "income", 1800, 1400),
    CostCode("02-400", "Demolition", "subs_site", "income", 2500, 1900),
    CostCode("03-100", "Concrete Forming", "concrete", "income", 14, 9),
    CostCode("03-200", "Concrete Reinforcing", "steel", "income", 3, 2),
    CostCode("03-300", "Cast-in-Place Concrete", "concrete", "income", 210, 165),
    CostCode("03-350", "Concrete Finishing", "concrete", "income", 4, 3, parent="03-300"),
    CostCode("04-200", "Unit Masonry", "concrete", "income", 28, 19),
    CostCode("04-400", "Stone Masonry", "concrete", "income", 45, 31, active=False),
    CostCode("05-100", "Structural Steel Framing", "steel", "income", 4200, 3300),
    CostCode("05-500", "Metal Fabrications", "steel", "income", 1500, 1150),
    CostCode("06-100", "Rough Carpentry", "lumber", "income", 85, 55),
    CostCode("06-110", "Framing Labor", "labor", "income", 78, 42, parent="06-100"),
    CostCode("06-120", "Framing Lumber", "lumber", "mat_income", 9, 7, parent="06-100"),
    CostCode("06-200", "Finish Carpentry", "finishes", "income", 92, 58),
    CostCode("06-400", "Architectural Woodwork", "finishes", "income", 5200, 4100),
    CostCode("07-200", "Thermal Insulation", "finishes", "income", 2, 1),
    CostCode("07-300", "Roofing", "subs_finish", "income", 520, 410),
    CostCode("07-600", "Flashing & Sheet Metal", "steel", "income", 18, 12),
    CostCode("07-900", "Joint Sealants", "finishes", "income", 12, 8),
    CostCode("08-100", "Doors & Frames", "finishes", "income", 780, 560),
    CostCode("08-500", "Windows", "finishes", "income", 950, 720),
    CostCode("08-800", "Glazing", "subs_finish", "income", 65, 48),
    CostCode("09-200", "Gypsum Board", "subs_finish", "income", 3, 2),
    CostCode("09-300", "Tiling", "finishes", "income", 16, 11),
    CostCode("09-600", "Flooring", "finishes", "income", 11, 7),
    CostCode("09-700", "Wall Coverings", "finishes", "income", 6, 4, active=False),
    CostCode("09-900", "Painting", "subs_finish", "income", 4, 3),
    CostCode("10-000", "Specialties", "finishes", "income", 300, 220),
    CostCode("11-000", "Appliances", "finishes", "mat_income", 1900, 1500),
    CostCode("12-300", "Countertops", "finishes", "income", 85, 62),
    CostCode("22-000", "Plumbing", "subs_plumb", "income", 125, 90),
    CostCode(
        "22-400", "Plumbing Fixtures", "plumb_supplies", "mat_income", 450, 330, parent="22-000"
    ),
    CostCode("23-000", "HVAC", "subs_mech", "income", 135, 98),
    CostCode("26-000", "Electrical", "subs_elec", "income", 130, 92),
    CostCode("26-500", "Lighting", "elec_supplies", "mat_income", 260, 190, parent="26-000"),
    CostCode("31-200", "Earthwork & Grading", "subs_site", "income", 175, 130),
    CostCode("32-900", "Landscaping", "subs_site", "income", 3800, 2900),
    CostCode("33-000", "Site Utilities", "subs_site", "income", 6500, 5100),
    # Purchase-only codes: costs the company never bills as a line of their own.
    CostCode("01-410", "Permits & Inspections", "permits", None, 0, 450),
    CostCode("01-520", "Equipment Rental", "rental", None, 0, 380),
    CostCode("01-560", "Small Tools & Consumables", "tools", None, 0, 75),
    CostCode("01-580", "Fuel & Mileage", "fuel", None, 0, 90),
    # Sale-only codes: what goes on client invoices but is never bought.
    CostCode("90-100", "Markup / Profit", None, "markup_income", 0, 0),
    CostCode("90-200", "Change Order Work", None, "co_income", 0, 0),
    CostCode("90-300", "Design Services", None, "income", 150, 0),
)


class VendorRow(NamedTuple):
    """A vendor and the trade that decides what it bills for."""

    name: str
    trade: str
    city: str
    is_1099: bool = False


VENDORS: tuple[VendorRow, ...] = (
    VendorRow("Hillside Lumber Supply", "lumber", "Bayshore"),
    VendorRow("Redwood Empire Lumber Co.", "lumber", "Santa Rosa"),
    VendorRow("Bay City Ready-Mix", "concrete", "Oakland"),
    VendorRow("Granite Rock Concrete & Aggregate", "concrete", "Watsonville"),
    VendorRow("O'Brien & Sons Electric", "electrical", "San Mateo", True),
    VendorRow("Bright Spark Electrical Contractors", "electrical", "Hayward", True),
    VendorRow("Delgado Plumbing & Drain", "plumbing", "San Jose", True),
    VendorRow("D'Angelo Mechanical", "hvac", "Fremont", True),
    VendorRow("Pacific Air Heating & Cooling", "hvac", "Concord", True),
    VendorRow("Sunbelt Equipment Rentals", "rental", "Bayshore"),
    VendorRow("Coastline Lift & Scaffold", "rental", "Richmond"),
    VendorRow("Müller Stahlbau", "steel", "Sacramento"),
    VendorRow("Golden Gate Rebar & Steel", "steel", "Vallejo"),
    VendorRow("Summit Roofing Inc.", "roofing", "Walnut Creek", True),
    VendorRow("Nguyễn Drywall & Taping", "drywall", "San Leandro", True),
    VendorRow("Brushstroke Painting Co.", "painting", "Daly City", True),
    VendorRow("Señor Tile & Stone", "tile", "Redwood City"),
    VendorRow("Hardwood Floors of the Bay", "flooring", "Burlingame"),
    VendorRow("ClearView Glass & Glazing", "glazing", "Santa Clara", True),
    VendorRow("Westside Doors & Millwork", "finish", "Palo Alto"),
    VendorRow("Home Depot", "hardware", "Bayshore"),
    VendorRow("Lowe's Home Improvement", "hardware", "Bayshore"),
    VendorRow("Ace Hardware - Harbor Blvd", "hardware", "Bayshore"),
    VendorRow("Valley Site Work & Excavation", "sitework", "Livermore", True),
    VendorRow("Precision Land Surveyors", "survey", "San Mateo", True),
    VendorRow("GreenScape Landscaping", "landscape", "Los Gatos", True),
    VendorRow("Bayshore Disposal & Recycling", "waste", "Bayshore"),
    VendorRow("City of Bayshore Building Dept.", "permits", "Bayshore"),
    VendorRow("County of San Mateo Planning", "permits", "Redwood City"),
    VendorRow("Chevron", "fuel", "Bayshore"),
    VendorRow("Shell Oil - Fleet", "fuel", "Bayshore"),
    VendorRow("Café Ñandú Catering", "meals", "San Francisco"),
    VendorRow("Joe's Taqueria", "meals", "Bayshore"),
    VendorRow("Staples Business", "office", "Bayshore"),
    VendorRow("Keller & Zoë Architects", "design", "San Francisco", True),
    VendorRow("Ferguson Plumbing Supply", "plumb_supply", "Hayward"),
    VendorRow("Graybar Electric Supply", "elec_supply", "Oakland"),
    VendorRow("Fastenal", "hardware", "Hayward"),
)


class EmployeeRow(NamedTuple):
    """An employee with labour cost and billing rates (dollars per hour)."""

    given: str
    family: str
    role: str
    cost_rate: str
    bill_rate: str
    billable: bool = True


EMPLOYEES: tuple[EmployeeRow, ...] = (
    EmployeeRow("Dana", "Ortiz", "Lead Carpenter", "38.50", "85"),
    EmployeeRow("Marcus", "Bell", "Superintendent", "52.00", "110"),
    EmployeeRow("Priya", "Raman", "Project Manager", "58.00", "125"),
    EmployeeRow("Luis", "Hernández", "Carpenter", "34.25", "78"),
    EmployeeRow("Sean", "O'Connell", "Carpenter", "33.00", "78"),
    EmployeeRow("Tomás", "Ruiz", "Concrete Finisher", "36.75", "82"),
    EmployeeRow("Keisha", "Washington", "Laborer", "26.50", "62"),
    EmployeeRow("Bjørn", "Halvorsen", "Equipment Operator", "41.00", "95"),
    EmployeeRow("Mei", "Chen", "Estimator", "45.00", "0", billable=False),
    EmployeeRow("Jamal", "Carter", "Laborer", "25.75", "62"),
    EmployeeRow("Rosa", "Jiménez", "Apprentice Carpenter", "24.00", "58"),
    EmployeeRow("Kevin", "McAllister", "Foreman", "44.50", "98"),
    EmployeeRow("Aiyana", "Redcloud", "Safety Officer", "39.00", "88"),
    EmployeeRow("Dmitri", "Volkov", "Finish Carpenter", "37.80", "86"),
    EmployeeRow("Grace", "Park", "Office Manager", "31.00", "0", billable=False),
    EmployeeRow("Hannah", "D'Souza", "Assistant PM", "40.00", "92"),
    EmployeeRow("Ezra", "Goldberg", "Laborer", "26.00", "62"),
    EmployeeRow("François", "Lefèvre", "Tile Setter", "35.50", "80"),
)


class CustomerRow(NamedTuple):
    """A client (top-level customer) and its jobs.

    ``jobs`` holds (name, is_project) pairs: sub-customers (Job) or QBO Projects.
    """

    display: str
    given: str
    family: str
    company: str | None
    street: str
    city: str
    jobs: tuple[tuple[str, bool], ...]


CUSTOMERS: tuple[CustomerRow, ...] = (
    CustomerRow(
        "Maple Street Remodel",
        "Pat",
        "Nguyen",
        "Maple Street Remodel",
        "412 Maple Street",
        "Bayshore",
        (("Kitchen Addition", True), ("Garage Conversion", False)),
    ),
    CustomerRow(
        "Harborview Medical Group",
        "Elaine",
        "Foster",
        "Harborview Medical Group",
        "1 Harborview Plaza",
        "San Mateo",
        (("Clinic Tenant Improvement", True), ("Parking Lot Resurfacing", True)),
    ),
    CustomerRow(
        "O'Malley Residence",
        "Brian",
        "O'Malley",
        None,
        "77 Ocean View Dr",
        "Half Moon Bay",
        (("Master Bath Remodel", True), ("Deck Rebuild", False)),
    ),
    CustomerRow(
        "Núñez Family Trust",
        "Lucía",
        "Núñez",
        "Núñez Family Trust",
        "19 Alameda de las Pulgas",
        "Menlo Park",
        (("ADU Construction", True),),
    ),
    CustomerRow(
        "Bayshore Unified School District",
        "Gloria",
        "Tanaka",
        "Bayshore Unified School District",
        "500 School Rd",
        "Bayshore",
        (
            ("Gym Roof Replacement", True),
            ("Portable Classrooms", True),
            ("ADA Restroom Upgrades", False),
        ),
    ),
    CustomerRow(
        "Greenfield Properties LLC",
        "Victor",
        "Greenfield",
        "Greenfield Properties LLC",
        "800 Market St Ste 400",
        "San Francisco",
        (("Lofts at 3rd Street", True), ("Retail Shell - Unit B", True)),
    ),
    CustomerRow(
        "Château Lumière Winery",
        "Amélie",
        "Durand",
        "Château Lumière Winery",
        "4500 Silverado Trail",
        "Napa",
        (("Tasting Room Expansion", True), ("Barrel Cellar", True)),
    ),
    CustomerRow(
        "Smith & Wesson Dental",
        "Karen",
        "Smith",
        "Smith & Wesson Dental",
        "22 Main St",
        "Burlingame",
        (("Office Buildout", True),),
    ),
    CustomerRow(
        "Robert Kim",
        "Robert",
        "Kim",
        None,
        "309 Elm Ct",
        "San Carlos",
        (("Whole House Remodel", True),),
    ),
    CustomerRow(
        "Coastal Credit Union",
        "Miguel",
        "Santos",
        "Coastal Credit Union",
        "1500 El Camino Real",
        "Millbrae",
        (("Branch Refresh - Millbrae", True), ("Branch Refresh - Pacifica", True)),
    ),
    CustomerRow(
        "The Patel Family",
        "Anil",
        "Patel",
        None,
        "41 Crestview Ave",
        "Belmont",
        (("Second Story Addition", True),),
    ),
    CustomerRow(
        "Hotel Zürich SF",
        "Lukas",
        "Meier",
        "Hotel Zürich SF",
        "250 Geary St",
        "San Francisco",
        (("Lobby Renovation", True), ("Guest Floors 4-6", True)),
    ),
    CustomerRow(
        "Sunrise Senior Living",
        "Deborah",
        "Clark",
        "Sunrise Senior Living",
        "90 Sunrise Way",
        "Foster City",
        (("Memory Care Wing", True),),
    ),
    CustomerRow(
        "Bayshore Public Works",
        "Henry",
        "Adeyemi",
        "City of Bayshore",
        "100 Civic Center",
        "Bayshore",
        (("Sidewalk Repairs 2025", False), ("Fire Station 3 Remodel", True)),
    ),
    CustomerRow(
        "Lopez Auto Body",
        "Carlos",
        "Lopez",
        "Lopez Auto Body",
        "12 Industrial Way",
        "South San Francisco",
        (("Paint Booth Install", True),),
    ),
    CustomerRow(
        "Wong & Associates CPAs",
        "Linda",
        "Wong",
        "Wong & Associates CPAs",
        "2 Embarcadero Ctr",
        "San Francisco",
        (("Suite 1200 TI", True),),
    ),
    CustomerRow(
        "Riverside Church",
        "Pastor James",
        "Okafor",
        "Riverside Community Church",
        "700 River Rd",
        "Redwood City",
        (("Fellowship Hall", True),),
    ),
    CustomerRow(
        "Anderson Ranch",
        "Kelly",
        "Anderson",
        None,
        "15000 Skyline Blvd",
        "Woodside",
        (("Barn Restoration", True), ("Guest House", False)),
    ),
    CustomerRow(
        "Blue Fin Seafood Co.",
        "Tony",
        "Russo",
        "Blue Fin Seafood Co.",
        "Pier 45",
        "San Francisco",
        (("Cold Storage Upgrade", True),),
    ),
    CustomerRow(
        "Mrs. Eleanor Whitfield",
        "Eleanor",
        "Whitfield",
        None,
        "8 Hillcrest Ln",
        "Hillsborough",
        (("Pool House", True),),
    ),
    CustomerRow(
        "Pacific Biotech Inc.",
        "Sanjay",
        "Mehta",
        "Pacific Biotech Inc.",
        "3000 Bridge Pkwy",
        "Redwood City",
        (("Lab Fit-Out Phase 1", True), ("Lab Fit-Out Phase 2", True)),
    ),
    CustomerRow(
        "Chloé's Bakery",
        "Chloé",
        "Martin",
        "Chloé's Bakery",
        "55 Laurel St",
        "San Carlos",
        (("Storefront Remodel", True),),
    ),
    CustomerRow(
        "Walk-in Service Calls", "Service", "Desk", None, "200 Harbor Blvd", "Bayshore", ()
    ),
)

CLASSES: tuple[str, ...] = ("Residential", "Commercial", "Public Works", "Service & Repair")

# (name, due days, discount days, discount percent)
TERMS: tuple[tuple[str, int, int, int], ...] = (
    ("Due on receipt", 0, 0, 0),
    ("Net 10", 10, 0, 0),
    ("Net 15", 15, 0, 0),
    ("Net 30", 30, 0, 0),
    ("Net 60", 60, 0, 0),
    ("1% 10 Net 30", 30, 10, 1),
)

# What each trade bills for: (cost codes it supplies, fallback account key, line descriptions).
TRADES: dict[str, tuple[tuple[str, ...], str, tuple[str, ...]]] = {
    "lumber": (
        ("06-100", "06-120", "06-200", "03-100"),
        "lumber",
        (
            "2x4x8 studs",
            "2x6 framing lumber",
            "3/4in CDX plywood",
            "LVL beams",
            "Pressure-treated 4x4",
            "OSB sheathing",
            "Joist hangers and hardware",
            "Trim boards",
        ),
    ),
    "concrete": (
        ("03-300", "03-350", "03-100", "04-200"),
        "concrete",
        (
            "4000 PSI ready-mix",
            "Short-load fee",
            "Pump truck",
            "CMU block",
            "Grout and mortar",
            "Concrete finishing crew",
            "Footing pour",
        ),
    ),
    "electrical": (
        ("26-000", "26-500"),
        "subs_elec",
        (
            "Rough-in electrical",
            "Panel upgrade 200A",
            "Lighting fixtures install",
            "Finish electrical",
            "Temporary power",
        ),
    ),
    "plumbing": (
        ("22-000", "22-400"),
        "subs_plumb",
        ("Rough-in plumbing", "Water heater install", "Fixture set", "Sewer lateral", "Gas line"),
    ),
    "hvac": (
        ("23-000",),
        "subs_mech",
        ("Ductwork rough-in", "Mini-split install", "Furnace replacement", "Test and balance"),
    ),
    "rental": (
        ("01-520", "01-500", "01-540"),
        "rental",
        (
            "Mini excavator - weekly",
            "Scissor lift - 4 weeks",
            "Portable toilet service",
            "Temp fence panels",
            "Scaffold rental",
            "Skid steer - daily",
            "Compactor rental",
        ),
    ),
    "steel": (
        ("05-100", "05-500", "03-200", "07-600"),
        "steel",
        (
            "Structural steel beams",
            "Rebar #4 and #5",
            "Steel moment frame",
            "Misc. metals",
            "Flashing",
        ),
    ),
    "roofing": (
        ("07-300", "07-600"),
        "subs_finish",
        ("Tear-off and reroof", "TPO membrane", "Roof repair", "Gutters and downspouts"),
    ),
    "drywall": (
        ("09-200",),
        "subs_finish",
        ("Hang and tape drywall", "Level 5 finish", "Patch and repair"),
    ),
    "painting": (
        ("09-900",),
        "subs_finish",
        ("Interior paint", "Exterior paint", "Primer coat", "Touch-up"),
    ),
    "tile": (
        ("09-300", "12-300"),
        "finishes",
        ("Porcelain floor tile", "Shower wall tile", "Grout and thinset", "Quartz countertop"),
    ),
    "flooring": (
        ("09-600",),
        "finishes",
        ("Engineered oak flooring", "LVP flooring", "Carpet and pad"),
    ),
    "glazing": (
        ("08-800", "08-500"),
        "subs_finish",
        ("Storefront glazing", "Window install", "Shower glass"),
    ),
    "finish": (
        ("08-100", "06-200", "06-400", "10-000"),
        "finishes",
        (
            "Pre-hung interior doors",
            "Exterior door unit",
            "Base and casing",
            "Custom cabinets",
            "Toilet accessories",
        ),
    ),
    "hardware": (
        ("01-560", "06-100", "09-900", "07-900"),
        "tools",
        (
            "Fasteners and anchors",
            "Caulk and sealant",
            "Saw blades",
            "Paint supplies",
            "Misc. hardware",
            "Extension cords",
            "Safety gear",
        ),
    ),
    "sitework": (
        ("31-200", "02-400", "33-000"),
        "subs_site",
        ("Excavation and grading", "Trenching for utilities", "Demolition", "Haul-off"),
    ),
    "survey": (
        ("02-200",),
        "subs_site",
        ("Boundary survey", "Construction staking", "As-built survey"),
    ),
    "landscape": (("32-900",), "subs_site", ("Irrigation", "Planting", "Hardscape pavers")),
    "waste": (("01-740",), "disposal", ("40-yard roll-off", "Dump fees", "Recycling pickup")),
    "permits": (
        ("01-410",),
        "permits",
        ("Building permit fee", "Plan check fee", "Inspection fee", "Encroachment permit"),
    ),
    "fuel": (("01-580",), "fuel", ("Diesel", "Unleaded - crew truck", "Fuel - equipment")),
    "meals": ((), "meals", ("Crew lunch", "Safety meeting lunch", "Client meeting")),
    "office": ((), "office", ("Printer paper and toner", "Plan printing", "Office supplies")),
    "design": (
        ("90-300",),
        "professional",
        ("Architectural services", "Structural engineering review"),
    ),
    "plumb_supply": (
        ("22-400",),
        "plumb_supplies",
        ("PEX and fittings", "Valves", "Toilets and faucets"),
    ),
    "elec_supply": (
        ("26-500",),
        "elec_supplies",
        ("Romex 12/2", "Breakers", "LED fixtures", "Conduit"),
    ),
}

MAX_LINES = {
    "Bill": 8,
    "Check": 3,
    "Cash": 2,
    "CreditCard": 3,
    "CreditCardCredit": 1,
    "VendorCredit": 3,
}

# Log-uniform dollar ranges of one expense line, by trade.
AMOUNTS: dict[str, tuple[int, int]] = {
    "lumber": (80, 7000),
    "concrete": (300, 9000),
    "steel": (200, 12000),
    "tile": (60, 3500),
    "flooring": (200, 6000),
    "finish": (150, 8000),
    "plumb_supply": (40, 2500),
    "elec_supply": (40, 2500),
    "electrical": (600, 18000),
    "plumbing": (500, 15000),
    "hvac": (800, 16000),
    "roofing": (1200, 22000),
    "drywall": (700, 12000),
    "painting": (500, 9000),
    "glazing": (600, 14000),
    "sitework": (900, 25000),
    "survey": (600, 4500),
    "landscape": (800, 15000),
    "design": (500, 9000),
    "rental": (120, 4500),
    "waste": (350, 1200),
    "permits": (150, 4200),
    "hardware": (8, 650),
    "fuel": (35, 260),
    "meals": (25, 480),
    "office": (15, 300),
}
# Trades each kind of purchase goes to; the vendor is then drawn among that trade's vendors.
PURCHASE_TRADES: dict[str, tuple[str, ...]] = {
    "Bill": (
        "lumber",
        "lumber",
        "concrete",
        "steel",
        "tile",
        "flooring",
        "finish",
        "plumb_supply",
        "elec_supply",
        "electrical",
        "electrical",
        "plumbing",
        "plumbing",
        "hvac",
        "roofing",
        "drywall",
        "painting",
        "glazing",
        "sitework",
        "survey",
        "landscape",
        "design",
        "rental",
        "rental",
        "waste",
        "permits",
    ),
    "Check": ("permits", "permits", "survey", "design", "rental", "waste", "drywall", "painting"),
    "Cash": ("fuel", "hardware", "permits", "waste", "meals", "hardware"),
    "CreditCard": (
        "hardware",
        "hardware",
        "hardware",
        "fuel",
        "fuel",
        "meals",
        "office",
        "rental",
        "lumber",
        "plumb_supply",
        "elec_supply",
    ),
    "CreditCardCredit": ("hardware", "hardware", "lumber", "rental"),
    "VendorCredit": ("lumber", "concrete", "finish", "tile", "rental", "plumb_supply"),
}
# Trades whose costs are overhead more often than not (no CustomerRef on the line).
OVERHEAD_TRADES = frozenset({"fuel", "meals", "office"})
ROLE_CODES: dict[str, tuple[str, ...]] = {
    "Lead Carpenter": ("06-110", "06-200"),
    "Carpenter": ("06-110", "06-110", "06-200"),
    "Apprentice Carpenter": ("06-110",),
    "Finish Carpenter": ("06-200",),
    "Superintendent": ("01-200",),
    "Foreman": ("01-200", "01-100"),
    "Project Manager": ("01-100",),
    "Assistant PM": ("01-100",),
    "Safety Officer": ("01-100",),
    "Estimator": ("01-100",),
    "Office Manager": ("01-100",),
    "Concrete Finisher": ("03-350",),
    "Laborer": ("01-100", "02-400", "01-700"),
    "Equipment Operator": ("31-200",),
    "Tile Setter": ("09-300",),
}
VENDOR_TIME_CODES = {
    "electrical": "26-000",
    "plumbing": "22-000",
    "hvac": "23-000",
    "drywall": "09-200",
    "painting": "09-900",
}
TIME_NOTES = (
    "Framing",
    "Layout and blocking",
    "Punch list",
    "Site cleanup",
    "Demo",
    "Material staging",
    "Client walkthrough",
    "Inspection prep",
    "Forming",
    "Finish work",
    "Safety meeting",
    "Coordination with subs",
)


def pdf_bytes(text: str) -> bytes:
    """A one-page PDF showing ``text`` (valid enough for any viewer)."""
    safe = text.encode("latin-1", "replace").decode("latin-1").replace("\\", "/")
    safe = safe.replace("(", "[").replace(")", "]")
    stream = f"BT /F1 12 Tf 72 720 Td ({safe}) Tj ET".encode("latin-1")
    return one_page(stream)


def png_bytes(rgb: int) -> bytes:
    """An 8x8 single-colour PNG."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    pixel = bytes(((rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255))
    raw = b"".join(b"\x00" + pixel * 8 for _ in range(8))
    header = struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
