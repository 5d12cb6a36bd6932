"""batchgw: deploy and run a multi-region Azure API Management gateway for Azure OpenAI."""

__version__ = "0.1.0"
