// Flex Consumption plan + Linux function app (.NET 10 isolated worker).
// All storage, Key Vault and Application Insights access goes through the
// user-assigned managed identity; no keys or connection strings with
// secrets are stored in app settings.

@description('Azure region for the resources.')
param location string

@description('SMTP settings (Qarion:Smtp): host (empty = e-mail off), port, security, username, fromAddress, fromName.')
param smtp {
  host: string
  port: int
  security: string
  username: string
  fromAddress: string
  fromName: string
}

@description('Versionless Key Vault secret URI of the SMTP password (empty = none).')
param smtpSecretUri string = ''

@description('Flex Consumption plan name.')
param planName string

@description('Function app name (globally unique host name).')
param functionAppName string

@description('Resource id of the user-assigned managed identity.')
param identityId string

@description('Client id of the user-assigned managed identity.')
param identityClientId string

@description('Storage account used for AzureWebJobsStorage (identity-based).')
param storageAccountName string

@description('URL of the blob container that holds the deployment package.')
param deploymentContainerUrl string

@description('Application Insights connection string.')
param appInsightsConnectionString string

@description('Versionless Key Vault secret URI of the PostgreSQL connection string.')
param connectionStringSecretUri string

@description('Versionless Key Vault secret URI of the credential encryption key.')
param credentialEncryptionKeySecretUri string

@description('Versionless Key Vault secret URI of the bootstrap token.')
param bootstrapTokenSecretUri string

@description('OIDC authority (issuer) URL; empty disables OIDC until configured.')
param oidcAuthority string

@description('OIDC audience; empty disables OIDC until configured.')
param oidcAudience string

@description('Memory per instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Upper bound for scale-out.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Tags applied to every resource.')
param tags object = {}

var appSettings = {
  // Host storage (leases, timers, queue triggers, Durable task hub) through
  // the user-assigned identity; shared keys are disabled on the account.
  AzureWebJobsStorage__accountName: storageAccountName
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  // Lets DefaultAzureCredential in application code pick the same identity.
  AZURE_CLIENT_ID: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  ConnectionStrings__Qarion: '@Microsoft.KeyVault(SecretUri=${connectionStringSecretUri})'
  Qarion__Ingestion__CredentialKey: '@Microsoft.KeyVault(SecretUri=${credentialEncryptionKeySecretUri})'
  Qarion__Auth__BootstrapToken: '@Microsoft.KeyVault(SecretUri=${bootstrapTokenSecretUri})'
  Qarion__Telemetry__Enabled: 'true'
  Qarion__Auth__Oidc__Authority: oidcAuthority
  Qarion__Auth__Oidc__Audience: oidcAudience
}

// E-mail settings only when an SMTP host is given: without them the app sends no e-mail (and says so).
var smtpSettings = empty(smtp.host) ? {} : {
  Qarion__Smtp__Host: smtp.host
  Qarion__Smtp__Port: string(smtp.port)
  Qarion__Smtp__Security: smtp.security
  Qarion__Smtp__Username: smtp.username
  Qarion__Smtp__FromAddress: smtp.fromAddress
  Qarion__Smtp__FromName: smtp.fromName
}
var smtpPasswordSetting = empty(smtpSecretUri) ? {} : {
  Qarion__Smtp__Password: '@Microsoft.KeyVault(SecretUri=${smtpSecretUri})'
}

resource plan 'Microsoft.Web/serverfarms@2024-11-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2024-11-01' = {
  name: functionAppName
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientAffinityEnabled: false
    publicNetworkAccess: 'Enabled'
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      appSettings: [
        for setting in items(union(appSettings, smtpSettings, smtpPasswordSetting)): {
          name: setting.key
          value: setting.value
        }
      ]
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
  }
}

// No basic-auth publishing: FTP is off entirely and deployments to the SCM
// endpoint must authenticate with Microsoft Entra ID.
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-11-01' = {
  parent: functionApp
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-11-01' = {
  parent: functionApp
  name: 'scm'
  properties: {
    allow: false
  }
}

output name string = functionApp.name
output defaultHostName string = functionApp.properties.defaultHostName
