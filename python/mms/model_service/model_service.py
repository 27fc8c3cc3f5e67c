from dms.model_service import ModelService, SingleNodeService  # noqa: F401
