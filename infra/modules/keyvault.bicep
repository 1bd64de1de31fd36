// Key Vault (RBAC authorisation, soft delete, purge protection) and the
// application's secrets. Secrets are written through the ARM control plane,
// so the deploying principal needs no data-plane role on the vault.

@description('Azure region for the resources.')
param location string

@description('Key Vault name (3-24 characters, globally unique).')
@minLength(3)
@maxLength(24)
param keyVaultName string

@description('Days a deleted vault / secret is kept before it can be purged.')
@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int = 90

@description('Fully qualified domain name of the PostgreSQL server.')
param postgresFqdn string

@description('Name of the application database.')
param postgresDatabaseName string

@description('PostgreSQL login used by the application.')
param postgresLogin string

@description('PostgreSQL password used by the application.')
@secure()
param postgresPassword string

@description('Key used to encrypt stored connector credentials.')
@secure()
param credentialEncryptionKey string

@description('One-time bootstrap token for the first administrator.')
@secure()
param bootstrapToken string

@description('SMTP password, stored only when storeSmtpPassword is true.')
@secure()
param smtpPassword string = ''

@description('Whether an SMTP password was given (false = no secret, no app setting).')
param storeSmtpPassword bool = false

@description('Tags applied to every resource.')
param tags object = {}

// Npgsql connection string. The password is double-quoted (embedded quotes
// doubled) so that ';' or '=' in it cannot break the key/value syntax.
var postgresConnectionString = 'Host=${postgresFqdn};Port=5432;Database=${postgresDatabaseName};Username=${postgresLogin};Password="${replace(postgresPassword, '"', '""')}";Ssl Mode=Require'

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' = {
  name: keyVaultName
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    enablePurgeProtection: true
    enabledForDeployment: false
    enabledForDiskEncryption: false
    enabledForTemplateDeployment: false
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource connectionStringSecret 'Microsoft.KeyVault/vaults/secrets@2024-11-01' = {
  parent: vault
  name: 'ConnectionStrings--Qarion'
  properties: {
    value: postgresConnectionString
    contentType: 'text/plain; format=npgsql-connection-string'
  }
}

resource credentialEncryptionKeySecret 'Microsoft.KeyVault/vaults/secrets@2024-11-01' = {
  parent: vault
  name: 'Qarion--CredentialEncryptionKey'
  properties: {
    value: credentialEncryptionKey
    contentType: 'text/plain'
  }
}

resource bootstrapTokenSecret 'Microsoft.KeyVault/vaults/secrets@2024-11-01' = {
  parent: vault
  name: 'Qarion--Auth--BootstrapToken'
  properties: {
    value: bootstrapToken
    contentType: 'text/plain'
  }
}

resource smtpPasswordSecret 'Microsoft.KeyVault/vaults/secrets@2024-11-01' = if (storeSmtpPassword) {
  parent: vault
  name: 'Qarion--Smtp--Password'
  properties: {
    value: smtpPassword
    contentType: 'text/plain'
  }
}

output keyVaultName string = vault.name
output keyVaultId string = vault.id
// Versionless URIs: the app picks up a rotated secret without redeploying.
output connectionStringSecretUri string = connectionStringSecret.properties.secretUri
output credentialEncryptionKeySecretUri string = credentialEncryptionKeySecret.properties.secretUri
output bootstrapTokenSecretUri string = bootstrapTokenSecret.properties.secretUri
output smtpSecretUri string = storeSmtpPassword ? smtpPasswordSecret!.properties.secretUri : ''
