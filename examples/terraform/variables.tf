variable "azemu_host" {
  description = "azemu's host and port: the provider reads https://<host>/metadata/endpoints."
  type        = string
  default     = "127.0.0.1:8443"
}

variable "tenant_id" {
  type    = string
  default = "72f988bf-86f1-41af-91ab-2d7cd011db47"
}

variable "client_id" {
  type    = string
  default = "terraform"
}

variable "client_secret" {
  type      = string
  default   = "terraform-secret"
  sensitive = true
}

variable "subscription_id" {
  type    = string
  default = "00000000-0000-0000-0000-000000000001"
}

variable "location" {
  type    = string
  default = "eastus"
}

variable "admin_password" {
  description = "The VMs' administrator password (azemu keeps no secret; Azure checks its complexity)."
  type        = string
  default     = "Example-Passw0rd!"
  sensitive   = true
}

variable "web_size" {
  description = "The Linux VM's size: change it to resize the VM in place."
  type        = string
  default     = "Standard_D2s_v3"
}

variable "pool_instances" {
  description = "How many instances the Uniform scale set runs."
  type        = number
  default     = 2
}
