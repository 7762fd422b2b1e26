output "web_public_ip" {
  description = "The Linux VM's public IP address."
  value       = azurerm_public_ip.web.ip_address
}

output "web_private_ip" {
  value = azurerm_linux_virtual_machine.web.private_ip_address
}

output "win_private_ip" {
  value = azurerm_windows_virtual_machine.win.private_ip_address
}

output "web_id" {
  value = azurerm_linux_virtual_machine.web.id
}
