// Qarion - Azure deployment (resource-group scope).
//
//   Function app (Flex Consumption, .NET 10 isolated)  --UAMI-->  Storage (blobs/queues/tables)
//                                                      --UAMI-->  Key Vault (secrets via KV references)
//                                                      --UAMI-->  Application Insights (Entra auth)
//                                                      --------> PostgreSQL flexible server (password auth)
//
// Build / lint locally: bash scripts/bicep-build
// Deploy: see infra/README.md

targetScope = 'resourceGroup'

metadata description = 'Qarion data governance platform: Flex Consumption function app, storage, PostgreSQL flexible server, Key Vault and monitoring.'

// ---------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------

@description('Azure region for all resources (must offer the Flex Consumption plan).')
param location string = resourceGroup().location

@description('Short lowercase prefix for resource names (letters, digits, hyphens).')
@minLength(2)
@maxLength(20)
param namePrefix string = 'qarion'

@description('Environment name used in resource names and tags, e.g. dev, test, prod.')
@minLength(2)
@maxLength(10)
param environmentName string = 'dev'

@description('PostgreSQL administrator login (password authentication). Also used by the application.')
@minLength(1)
@maxLength(63)
param postgresAdminLogin string

@description('PostgreSQL administrator password. Stored in Key Vault as part of ConnectionStrings--Qarion.')
@secure()
@minLength(12)
@maxLength(128)
param postgresAdminPassword string

@description('AES-256 key that encrypts stored connector credentials (Qarion:Ingestion:CredentialKey): base64 of 32 random bytes, e.g. openssl rand -base64 32.')
@secure()
@minLength(44)
@maxLength(44)
param credentialEncryptionKey string

@description('One-time bootstrap token for creating the first administrator (Qarion:Auth:BootstrapToken).')
@secure()
@minLength(16)
param bootstrapToken string

@description('PostgreSQL compute SKU. Standard_B* = Burstable, Standard_D* = GeneralPurpose, Standard_E* = MemoryOptimized.')
param postgresSkuName string = 'Standard_B1ms'

@description('Optional object id of a Microsoft Entra principal to make PostgreSQL Entra administrator (empty = none).')
param postgresEntraAdminObjectId string = ''

@description('Display / principal name of the optional PostgreSQL Entra administrator.')
param postgresEntraAdminPrincipalName string = ''

@description('Principal type of the optional PostgreSQL Entra administrator.')
@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param postgresEntraAdminPrincipalType string = 'Group'

@description('OIDC authority (issuer URL) for API authentication (Qarion:Auth:Oidc:Authority). Empty = not configured.')
param oidcAuthority string = ''

@description('OIDC audience for API authentication (Qarion:Auth:Oidc:Audience). Empty = not configured.')
param oidcAudience string = ''

@description('SMTP server for e-mail notifications and e-mail alert connectors (Qarion:Smtp:Host). Empty = no e-mail is sent.')
param smtpHost string = ''

@description('SMTP port: 587 with StartTls, 465 with SslOnConnect.')
@minValue(1)
@maxValue(65535)
param smtpPort int = 587

@description('SMTP transport security. None is refused by the application unless the host is a loopback address.')
@allowed([
  'StartTls'
  'SslOnConnect'
])
param smtpSecurity string = 'StartTls'

@description('SMTP user name (empty = no authentication).')
param smtpUsername string = ''

@description('SMTP password. Stored in Key Vault as Qarion--Smtp--Password when not empty.')
@secure()
param smtpPassword string = ''

@description('Sender address of every e-mail (Qarion:Smtp:FromAddress); required when smtpHost is set.')
param smtpFromAddress string = ''

@description('Sender display name.')
param smtpFromName string = 'Qarion'

@description('Flex Consumption instance memory in MB.')
@allowed([
  512
  2048
  4096
])
param functionInstanceMemoryMB int = 2048

@description('Flex Consumption maximum instance count.')
@minValue(1)
@maxValue(1000)
param functionMaximumInstanceCount int = 100

@description('Extra tags merged into the default tags of every resource.')
param tags object = {}

// ---------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------

var suffix = uniqueString(resourceGroup().id)
var baseName = toLower('${namePrefix}-${environmentName}')
var compactName = replace(baseName, '-', '')

var names = {
  identity: 'id-${baseName}-${suffix}'
  logAnalytics: 'log-${baseName}-${suffix}'
  appInsights: 'appi-${baseName}-${suffix}'
  // Storage: 3-24 lowercase alphanumerics. 2 + 9 + 13 = 24.
  storage: 'st${take(compactName, 9)}${suffix}'
  // Key Vault: 3-24 alphanumerics/hyphens, starts with a letter. 2 + 9 + 13 = 24.
  keyVault: 'kv${take(compactName, 9)}${suffix}'
  postgres: 'psql-${baseName}-${suffix}'
  plan: 'plan-${baseName}-${suffix}'
  functionApp: 'func-${baseName}-${suffix}'
}

var deploymentContainerName = 'deployment-package'
var queueNames = [
  'quality-checks'
  'notifications'
  'webhooks'
]
var postgresDatabaseName = 'qarion'
var postgresAllowedExtensions = 'PG_TRGM,CITEXT,UNACCENT'

var allTags = union(
  {
    application: 'qarion'
    environment: environmentName
  },
  tags
)

// ---------------------------------------------------------------------------
// Resources
// ---------------------------------------------------------------------------

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: names.identity
  location: location
  tags: allTags
}

module monitoring 'modules/monitoring.bicep' = {
  params: {
    location: location
    logAnalyticsName: names.logAnalytics
    appInsightsName: names.appInsights
    tags: allTags
  }
}

module storage 'modules/storage.bicep' = {
  params: {
    location: location
    storageAccountName: names.storage
    deploymentContainerName: deploymentContainerName
    queueNames: queueNames
    tags: allTags
  }
}

module postgres 'modules/postgres.bicep' = {
  params: {
    location: location
    serverName: names.postgres
    databaseName: postgresDatabaseName
    version: '16'
    skuName: postgresSkuName
    storageSizeGB: 32
    backupRetentionDays: 7
    administratorLogin: postgresAdminLogin
    administratorLoginPassword: postgresAdminPassword
    entraAdminObjectId: postgresEntraAdminObjectId
    entraAdminPrincipalName: postgresEntraAdminPrincipalName
    entraAdminPrincipalType: postgresEntraAdminPrincipalType
    allowedExtensions: postgresAllowedExtensions
    tags: allTags
  }
}

module keyVault 'modules/keyvault.bicep' = {
  params: {
    location: location
    keyVaultName: names.keyVault
    postgresFqdn: postgres.outputs.fqdn
    postgresDatabaseName: postgres.outputs.databaseName
    postgresLogin: postgresAdminLogin
    postgresPassword: postgresAdminPassword
    credentialEncryptionKey: credentialEncryptionKey
    bootstrapToken: bootstrapToken
    smtpPassword: smtpPassword
    storeSmtpPassword: !empty(smtpPassword)
    tags: allTags
  }
}

module roleAssignments 'modules/roleAssignments.bicep' = {
  params: {
    identityResourceId: identity.id
    principalId: identity.properties.principalId
    // Names (not module outputs) keep role assignment ids deterministic, so
    // what-if can predict them; dependsOn supplies the ordering instead.
    storageAccountName: names.storage
    keyVaultName: names.keyVault
    appInsightsName: names.appInsights
  }
  dependsOn: [
    storage
    keyVault
    monitoring
  ]
}

module functionApp 'modules/functionApp.bicep' = {
  params: {
    location: location
    planName: names.plan
    functionAppName: names.functionApp
    identityId: identity.id
    identityClientId: identity.properties.clientId
    storageAccountName: storage.outputs.storageAccountName
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    appInsightsConnectionString: monitoring.outputs.appInsightsConnectionString
    connectionStringSecretUri: keyVault.outputs.connectionStringSecretUri
    credentialEncryptionKeySecretUri: keyVault.outputs.credentialEncryptionKeySecretUri
    bootstrapTokenSecretUri: keyVault.outputs.bootstrapTokenSecretUri
    oidcAuthority: oidcAuthority
    oidcAudience: oidcAudience
    smtp: {
      host: smtpHost
      port: smtpPort
      security: smtpSecurity
      username: smtpUsername
      fromAddress: smtpFromAddress
      fromName: smtpFromName
    }
    smtpSecretUri: keyVault.outputs.smtpSecretUri
    instanceMemoryMB: functionInstanceMemoryMB
    maximumInstanceCount: functionMaximumInstanceCount
    tags: allTags
  }
  // The identity must hold its storage / Key Vault / monitoring roles before
  // the host starts, or the first start fails on storage and KV references.
  dependsOn: [
    roleAssignments
  ]
}

// ---------------------------------------------------------------------------
// Outputs
// ---------------------------------------------------------------------------

@description('Name of the function app.')
output functionAppName string = functionApp.outputs.name

@description('Default host name of the function app.')
output functionAppDefaultHostName string = functionApp.outputs.defaultHostName

@description('Name of the Key Vault holding the application secrets.')
output keyVaultName string = keyVault.outputs.keyVaultName

@description('Fully qualified domain name of the PostgreSQL flexible server.')
output postgresFqdn string = postgres.outputs.fqdn

@description('Name of the storage account (host storage, queues, deployment package).')
output storageAccountName string = storage.outputs.storageAccountName

@description('Client id of the user-assigned identity the function app runs as.')
output managedIdentityClientId string = identity.properties.clientId
