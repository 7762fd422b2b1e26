terraform {
  required_version = ">= 1.6"
  required_providers {
    azurerm = {
      source = "hashicorp/azurerm"
    }
  }
}

# azemu is reached as any Azure cloud that is not public Azure is: the
# provider reads Resource Manager's and the token service's URLs from
# https://<metadata_host>/metadata/endpoints. The credentials are a service
# principal's (any client ID and secret sign in to azemu's open mode), and
# SSL_CERT_FILE must name azemu's CA (~/.azemu/tls/ca.pem).
provider "azurerm" {
  features {}
  metadata_host                   = var.azemu_host
  tenant_id                       = var.tenant_id
  client_id                       = var.client_id
  client_secret                   = var.client_secret
  subscription_id                 = var.subscription_id
  resource_provider_registrations = "none"
}
