<#--
  Shown after a valid backup code when few remain. The code is already spent; both buttons finish the login.
  Field: backupCodeLowChoice = regenerate | later.
-->
<#import "template.ftl" as layout>
<@layout.registrationLayout; section>
<!-- template: backup-code-low.ftl -->
    <#if section = "header">
        ${msg("backupCodeLowTitle")}
    <#elseif section = "form">
        <#if !(properties.styles!'')?contains('backup-codes.css')>
            <link href="${url.resourcesPath}/css/backup-codes.css" rel="stylesheet" />
        </#if>
        <div class="${properties.kcAlertClass!} pf-m-warning" role="status">
            <div class="${properties.kcAlertIconClass!}"><span class="${properties.kcFeedbackWarningIcon!}" aria-hidden="true"></span></div>
            <p class="${properties.kcAlertTitleClass!}">${msg("backupCodeLowMessage", backupCodeRemaining!"0")}</p>
        </div>
        <p id="backup-code-low-explain" class="bc-explain">${msg("backupCodeLowExplain")}</p>
        <form id="kc-backup-code-low-form" class="${properties.kcFormClass!}" action="${url.loginAction}" method="post">
            <div class="${properties.kcFormGroupClass!}">
                <div class="${properties.kcFormActionGroupClass!} bc-actions-stacked">
                    <button id="backup-code-regenerate" name="backupCodeLowChoice" value="regenerate" type="submit" autofocus
                            aria-describedby="backup-code-low-explain"
                            class="${properties.kcButtonPrimaryClass!} ${properties.kcButtonBlockClass!}">${msg("backupCodeLowRegenerate")}</button>
                    <button id="backup-code-later" name="backupCodeLowChoice" value="later" type="submit"
                            class="${properties.kcButtonSecondaryClass!} ${properties.kcButtonBlockClass!}">${msg("backupCodeLowLater")}</button>
                </div>
            </div>
        </form>
    </#if>
</@layout.registrationLayout>
