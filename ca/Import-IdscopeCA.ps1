<#
.SYNOPSIS
  Imports the idscope CA certificate into the machine's Trusted Root store (or removes it).
.DESCRIPTION
  Run elevated. Export the certificate first on the analyst machine:
    idscope ca export --der -o idscope-ca.cer
  Only the public certificate is imported; the CA key never leaves the analyst machine.
.EXAMPLE
  .\Import-IdscopeCA.ps1 -Path C:\idscope\idscope-ca.cer
.EXAMPLE
  .\Import-IdscopeCA.ps1 -Remove
#>
param(
  [string]$Path = "C:\idscope\idscope-ca.cer",
  [switch]$Remove
)
$ErrorActionPreference = "Stop"
if ($Remove) {
  $found = Get-ChildItem Cert:\LocalMachine\Root | Where-Object Subject -like "*idscope interception CA*"
  $found | ForEach-Object { Write-Host "Removing $($_.Thumbprint) $($_.Subject)"; $_ | Remove-Item }
  if (-not $found) { Write-Host "No idscope CA in Cert:\LocalMachine\Root" }
  exit 0
}
$cert = Import-Certificate -FilePath $Path -CertStoreLocation Cert:\LocalMachine\Root
Write-Host "Imported $($cert.Subject)"
Write-Host "Thumbprint (compare with the SHA-1 of 'idscope ca show'): $($cert.Thumbprint)"
