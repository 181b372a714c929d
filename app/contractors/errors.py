from app.core.errors import NotFound


class ContractorNotFound(NotFound):
    code = "contractor_not_found"
    title = "Contractor not found"
