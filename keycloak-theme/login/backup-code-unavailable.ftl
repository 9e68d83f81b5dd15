<#--
  The bridge could not answer. Nothing was decided: no code was accepted, nothing was consumed.
  "Try again" posts backupCodeTryAgain to the same step. "Try another way" (OTP, passkey) comes from template.ftl.
-->
<#import "template.ftl" as layout>
<@layout.registrationLayout; section>
<!-- template: backup-code-unavailable.ftl -->
    <#if section = "header">
        ${msg("backupCodeUnavailableTitle")}
    <#elseif section = "form">
        <#if !(properties.styles!'')?contains('backup-codes.css')>
            <link href="${url.resourcesPath}/css/backup-codes.css" rel="stylesheet" />
        </#if>
        <div class="${properties.kcAlertClass!} pf-m-danger" role="alert">
            <div class="${properties.kcAlertIconClass!}"><span class="${properties.kcFeedbackErrorIcon!}" aria-hidden="true"></span></div>
            <p class="${properties.kcAlertTitleClass!}">${msg("backupCodeUnavailableMessage")}</p>
        </div>
        <p id="backup-code-unavailable-help" class="bc-explain">${msg("backupCodeUnavailableHelp")}</p>
        <form id="kc-backup-code-unavailable-form" class="${properties.kcFormClass!}" action="${url.loginAction}" method="post">
            <input type="hidden" name="backupCodeTryAgain" value="true" />
            <div class="${properties.kcFormGroupClass!}">
                <div class="${properties.kcFormActionGroupClass!}">
                    <button id="backup-code-try-again" type="submit" autofocus
                            class="${properties.kcButtonPrimaryClass!} ${properties.kcButtonBlockClass!}">${msg("backupCodeTryAgain")}</button>
                    <#if isAppInitiatedAction??>
                        <button id="backup-code-cancel" type="submit" name="cancel-aia" value="true" formnovalidate
                                class="${properties.kcButtonSecondaryClass!} ${properties.kcButtonBlockClass!}">${msg("backupCodeCancel")}</button>
                    </#if>
                </div>
            </div>
        </form>
    </#if>
</@layout.registrationLayout>
